"""Robot ``segment_contact`` (eshop): the client's segment, orders and total, on demand.

Placed on a deal (the deal's contact) or on a contact. It reads the contact's orders
(newest 50) and writes «Сегмент», «Заказов» and «Сумма заказов» on the contact the way
the eshop rules do (``app.playbooks.eshop.rules_clients``) — useful in the automation
designer for clients from before the app, or to branch a process on the segment, which it
returns (code and Russian label). Only fields that differ are written.
"""

from __future__ import annotations

from typing import Any

from app.robots.contract import LoadEnv, RobotInput, RobotInputError, RobotResult
from app.robots.documents import Loaded, load_document
from app.robots.spec import PropertySpec, RobotSpec
from app.rules.actions import UpdateFields
from app.sync.fetch import CLIENT_DEALS, CONTACT_DEALS

SPEC = RobotSpec(
    code="segment_contact",
    names={"ru": "Сегмент клиента", "en": "Client segment"},
    descriptions={
        "ru": "Пересчитать сегмент, число и сумму заказов клиента (контакта сделки)",
        "en": "Recompute the client's segment, order count and total (the deal's contact)",
    },
    properties=(),
    returns=(
        PropertySpec("segment", {"ru": "Сегмент", "en": "Segment"}, "string"),
        PropertySpec("segment_code", {"ru": "Код сегмента", "en": "Segment code"}, "string"),
        PropertySpec("orders", {"ru": "Заказов", "en": "Orders"}, "int"),
        PropertySpec("orders_sum", {"ru": "Сумма заказов", "en": "Orders total"}, "double"),
        PropertySpec("error", {"ru": "Ошибка", "en": "Error"}, "string"),
    ),
    writes=("UF_CRM_ES_ORDERS", "UF_CRM_ES_ORDERS_SUM", "UF_CRM_ES_SEGMENT"),
)


def load(env: LoadEnv) -> Loaded:
    """The deal or contact, the contact (for a deal) and the contact's deals, one batch."""
    if env.entity not in ("deal", "contact"):
        raise RobotInputError("робот работает в сделках и контактах (deals and contacts only)")
    needs = (CONTACT_DEALS,) if env.entity == "contact" else (CLIENT_DEALS, "contacts")
    return load_document(env.client, env.naming, env.document, needs)


def run(inp: RobotInput) -> RobotResult:
    from app.playbooks.eshop import SEGMENTS
    from app.playbooks.eshop.rules_clients import RECEIVED, changed_fields, client_fields
    from app.playbooks.settings import defaults

    record = dict(inp.record or {})
    if inp.entity == "contact":
        contact_id, contact = inp.document.record_id, record
        deals = inp.related.get(CONTACT_DEALS) or []
    else:
        contact_id = _int(record.get("contactId"))
        if not contact_id:
            raise RobotInputError("у сделки нет контакта (the deal has no contact)")
        contacts = {_int(c.get("id")): c for c in inp.related.get("contacts") or []}
        contact = contacts.get(contact_id)
        deals = inp.related.get(CLIENT_DEALS) or []
    settings = {**defaults("eshop"), **(inp.settings.get("eshop") or {})}
    try:  # the related deals come normalized: «Получен» reads as its stable code
        wanted, code, _next = client_fields(deals, RECEIVED, inp.now, settings, inp.naming)
    except KeyError as exc:
        raise RobotInputError(
            f"поля интернет-магазина не установлены на портале (eshop fields missing): {exc}"
        ) from None
    changed = changed_fields(contact, wanted)
    actions = (UpdateFields("contact", contact_id, changed, key="client"),) if changed else ()
    label = next((o.label.ru for o in SEGMENTS if o.code == code), code)
    returns = {
        "segment": label,
        "segment_code": code,
        "orders": wanted["UF_CRM_ES_ORDERS"],
        "orders_sum": wanted["UF_CRM_ES_ORDERS_SUM"],
    }
    log = f"Клиент contact_{contact_id}: {label}, заказов {returns['orders']}"
    return RobotResult(returns=returns, actions=actions, log=log)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
