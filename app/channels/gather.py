"""Gather what deciding a client message needs, from the portal: the record, the client
(contact/company) behind it, their phones and e-mails, open-line chats bound to them, and
the "do not contact" flag. Reads only: the record, up to five contacts and the company
(``crm.item.get``), and open-line chats only when asked.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any

from app.channels.plan import Client
from app.portal.errors import AccessDenied, MethodNotFound, NotFound, PortalError
from app.rules.changes import normalize

log = logging.getLogger(__name__)

CONTACT, COMPANY = 3, 4
OPENLINE_TYPES = {1: "lead", 2: "deal", 3: "contact", 4: "company"}


def record(client: Any, naming: Any, entity: str, record_id: int) -> dict[str, Any] | None:
    """The record as ``crm.item.get`` returns it (None when it is gone)."""
    try:
        reply = client.call(
            "crm.item.get", {"entityTypeId": naming.entity_type_id(entity), "id": int(record_id)}
        )
    except NotFound:
        return None
    return (reply or {}).get("item") if isinstance(reply, Mapping) else None


def _item(client: Any, etid: int, rid: Any) -> dict[str, Any] | None:
    try:
        reply = client.call("crm.item.get", {"entityTypeId": etid, "id": int(rid)})
    except (NotFound, TypeError, ValueError):
        return None
    return (reply or {}).get("item") if isinstance(reply, Mapping) else None


def people(client: Any, naming: Any, entity: str, item: Mapping[str, Any]) -> list[tuple]:
    """``[(entity, id, raw item)]``: the record itself, then its contacts and company."""
    out = [(entity, int(item["id"]), item)]
    contact_ids = list(item.get("contactIds") or [])
    if item.get("contactId") and item["contactId"] not in contact_ids:
        contact_ids.insert(0, item["contactId"])
    for cid in contact_ids[:5]:
        found = _item(client, CONTACT, cid)
        if found:
            out.append(("contact", int(cid), found))
    if item.get("companyId"):
        found = _item(client, COMPANY, item["companyId"])
        if found:
            out.append(("company", int(item["companyId"]), found))
    return out


def _multi(item: Mapping[str, Any], kind: str) -> list[str]:
    values = [
        str(f.get("value") or "").strip()
        for f in item.get("fm") or []
        if isinstance(f, Mapping) and str(f.get("typeId") or "").upper() == kind
    ]
    legacy = item.get(kind.lower()) or item.get(kind) or []  # PHONE/EMAIL arrays, if selected
    for f in legacy if isinstance(legacy, list) else []:
        if isinstance(f, Mapping) and f.get("VALUE"):
            values.append(str(f["VALUE"]).strip())
    return [v for v in dict.fromkeys(values) if v]


def chats(client: Any, naming: Any, owners: list[tuple]) -> tuple[list[tuple], str | None]:
    """Open-line chats bound to any of ``owners`` (``imopenlines.crm.chat.get``, active only);
    ``(chats, problem)`` — problem is set when the app cannot use open lines at all."""
    found: list[tuple] = []
    for entity, rid, _item in owners:
        kind = OPENLINE_TYPES.get(_etid(naming, entity))
        if kind is None:
            continue
        try:
            rows = client.call(
                "imopenlines.crm.chat.get", {"CRM_ENTITY_TYPE": kind, "CRM_ENTITY": rid}
            )
        except (AccessDenied, MethodNotFound) as exc:
            return [], f"{type(exc).__name__}: {exc.code or exc}"
        except PortalError as exc:
            log.warning("imopenlines.crm.chat.get %s %s: %s", kind, rid, exc.code)
            continue
        for row in rows or []:
            if isinstance(row, Mapping) and row.get("CHAT_ID"):
                found.append((str(row["CHAT_ID"]), kind, int(rid)))
    return found, None


def _etid(naming: Any, entity: str) -> int:
    try:
        return int(naming.entity_type_id(entity))
    except (KeyError, ValueError):
        return 0


def truthy(value: Any) -> bool:
    if isinstance(value, list):
        return any(truthy(v) for v in value)
    return value not in (None, "", "N", "0", 0, False, "false")


def client_of(
    client: Any,
    naming: Any,
    entity: str,
    item: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    want_chats: bool | Callable[[Client], bool],
) -> tuple[Client, str | None]:
    """The :class:`Client` behind record ``item``; the second value is why open lines are
    unusable (None when fine or not asked). ``want_chats`` may be a function of the client
    without chats: open lines are asked (one call per record/contact/company) only when the
    messenger could matter."""
    owners = people(client, naming, entity, item)
    phones: list[str] = []
    emails: list[tuple[str, str, int]] = []
    blocked = False
    flag = str(settings.get("do_not_contact_field") or "").strip()
    for who, rid, raw in owners:
        phones += _multi(raw, "PHONE")
        emails += [(e, who, rid) for e in _multi(raw, "EMAIL")]
        if flag:
            named = normalize(who, raw, naming) or {}
            if truthy(named.get(flag)) or truthy(raw.get(flag)):
                blocked = True
    reached = Client(
        phones=tuple(dict.fromkeys(phones)),
        emails=tuple(dict.fromkeys(emails)),
        do_not_contact=blocked,
        values=placeholder_values(entity, item, owners, naming),
    )
    ask = want_chats(reached) if callable(want_chats) else want_chats
    if not ask or blocked:
        return reached, None
    found, problem = chats(client, naming, owners)
    return dataclasses.replace(reached, chats=tuple(found)), problem


def placeholder_values(entity: str, item: Mapping[str, Any], owners, naming) -> dict[str, Any]:
    """``{title}``, ``{id}``, ``{name}``, ``{client_name}`` and every field of the record by
    its stable code (``{UF_CRM_FR_DUE_DATE}``) or raw name (``{opportunity}``)."""
    values: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, str | int | float):
            values[key] = value
    for key, value in (normalize(entity, item, naming) or {}).items():
        if isinstance(value, str | int | float):
            values[key] = value
    values.setdefault("title", item.get("title") or f"#{item.get('id')}")
    person = next((raw for who, _r, raw in owners if who == "contact"), item)
    name = " ".join(str(person.get(k) or "").strip() for k in ("name", "lastName")).strip()
    values["client_name"] = name or str(item.get("title") or "")
    return values
