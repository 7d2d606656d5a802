"""Channel adapters: send one planned message through the portal or the SMS gateway.

Each ``send_<channel>(client, out)`` returns the provider's id of the message and raises:

* :class:`Unavailable` — this channel cannot carry it on this portal (no mailbox, the chat
  is not bound to the record any more, the sender cannot write there): try the next one;
* :class:`RetryLater`  — not accepted now, certainly not sent: the job retries with backoff;
* :class:`Uncertain`   — it may have gone out: never sent again.

Anything the portal refuses for good is :class:`Unavailable` with the portal's words.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.channels import smsru
from app.channels.plan import Plan
from app.portal.errors import (
    OperatingLimit,
    PortalError,
    RateLimited,
    ServerError,
    TokenExpired,
    TransportError,
)

log = logging.getLogger(__name__)

EMAIL_TYPE, OUTGOING, PLAIN_TEXT = 4, 2, 1
APP_PROVIDER, SMS_TYPE = "REST_APP", "SMS"


class Unavailable(Exception):
    pass


class RetryLater(Exception):
    pass


class Uncertain(Exception):
    pass


@dataclass
class Outgoing:
    """One message about to go out."""

    key: str
    entity: str
    record_id: int
    etid: int
    responsible: int | None
    plan: Plan
    settings: dict[str, Any]


def _portal(method: str, call):
    """Run one portal call; map its errors onto the adapter's outcome classes."""
    try:
        return call()
    except (RateLimited, OperatingLimit, TokenExpired) as exc:
        raise RetryLater(f"{method}: {exc.code}") from None  # the portal did not execute it
    except (ServerError, TransportError) as exc:
        raise Uncertain(f"{method}: {exc.code or type(exc).__name__}") from None
    except PortalError as exc:
        raise Unavailable(f"{method}: {exc.description or exc.code}") from None


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def send_email(client: Any, out: Outgoing) -> str:
    """An outgoing e-mail activity on the record; the portal sends the letter because
    TYPE_ID=4, DIRECTION=2 and COMPLETED=Y come together
    (``tutorials/crm/how-to-add-crm-objects/how-to-send-email.md``). Without
    ``SETTINGS.MESSAGE_FROM`` the portal takes the responsible's CRM mailbox, then the shared
    one; with neither it answers ``Email send error. "From" is not found``."""
    plan = out.plan
    owner_entity, owner_id = plan.owner or (out.entity, out.record_id)
    owner_etid = {"contact": 3, "company": 4}.get(owner_entity, out.etid)
    fields: dict[str, Any] = {
        "OWNER_TYPE_ID": out.etid,
        "OWNER_ID": out.record_id,
        "TYPE_ID": EMAIL_TYPE,
        "DIRECTION": OUTGOING,
        "COMPLETED": "Y",
        "SUBJECT": plan.subject or plan.text[:60],
        "DESCRIPTION": plan.text,
        "DESCRIPTION_TYPE": PLAIN_TEXT,
        "COMMUNICATIONS": [
            {"VALUE": plan.recipient, "ENTITY_ID": owner_id, "ENTITY_TYPE_ID": owner_etid}
        ],
        "START_TIME": _now(),
        "END_TIME": _now(),
        "ORIGIN_ID": out.key,
    }
    if out.responsible:
        fields["RESPONSIBLE_ID"] = int(out.responsible)
    sender = str(out.settings.get("email_from") or "").strip()
    if sender:
        fields["SETTINGS"] = {"MESSAGE_FROM": sender}
    call = lambda: client.call("crm.activity.add", {"fields": fields})  # noqa: E731
    try:
        return str(_portal("crm.activity.add", call))
    except Unavailable as exc:
        if "Email send error" in str(exc):
            _drop_unsent(client, out.key)
        raise


def _drop_unsent(client: Any, key: str) -> None:
    """``Email send error…`` means the activity was created and the letter not sent: delete
    it, so the card does not show an e-mail the client never got (the how-to-send-email
    tutorial's advice); the failure is told on the timeline instead."""
    try:
        activity = find_email(client, key)
        if activity is not None:
            client.call("crm.activity.delete", {"id": int(activity)})
    except PortalError as exc:
        log.warning("could not remove the unsent e-mail activity: %s", exc.code)


def find_email(client: Any, key: str) -> str | None:
    """The id of the e-mail activity we created for outbox ``key`` (``ORIGIN_ID``), if any:
    a send interrupted after ``crm.activity.add`` left it — and the portal sent the letter
    as part of creating it. Raises PortalError when the portal cannot tell."""
    rows = client.call(
        "crm.activity.list",
        {"filter": {"ORIGIN_ID": key, "TYPE_ID": EMAIL_TYPE}, "select": ["ID"]},
    )
    for row in rows or []:
        if isinstance(row, dict) and row.get("ID"):
            return str(row["ID"])
    return None


def send_messenger(client: Any, out: Outgoing) -> str:
    """A message into the client's open-line chat (``imopenlines.crm.message.add``), on
    behalf of ``openline_user_id`` or the record's responsible (a chat participant)."""
    plan = out.plan
    chat_entity, chat_owner = plan.owner or (out.entity, out.record_id)
    user = int(out.settings.get("openline_user_id") or 0) or out.responsible
    if not user:
        raise Unavailable("imopenlines.crm.message.add: no sender (responsible) on the record")
    params = {
        "CRM_ENTITY_TYPE": chat_entity,
        "CRM_ENTITY": chat_owner,
        "USER_ID": int(user),
        "CHAT_ID": int(plan.recipient),
        "MESSAGE": plan.text,
    }
    call = lambda: client.call("imopenlines.crm.message.add", params)  # noqa: E731
    return str(_portal("imopenlines.crm.message.add", call))


def gateway(settings: dict[str, Any]) -> smsru.Gateway | None:
    """The configured SMS gateway, or None when no provider is set up."""
    if str(settings.get("sms_provider") or "").strip().lower() != "smsru":
        return None
    key = str(settings.get("sms_api_id") or "").strip()
    if not key:
        return None
    url = str(settings.get("sms_api_url") or smsru.DEFAULT_URL).strip()
    return smsru.Gateway(key, str(settings.get("sms_sender") or "").strip(), url)


def send_sms(client: Any, out: Outgoing) -> str:
    """Through the SMS gateway (the portal offers apps no SMS sending: ``messageservice.*``
    registers providers, see ``api-reference/messageservice/index.md``)."""
    gw = gateway(out.settings)
    if gw is None:
        raise Unavailable("sms: SMS-провайдер не настроен")
    try:
        return gw.send(out.plan.recipient or "", out.plan.text)
    except smsru.Rejected as exc:
        raise Unavailable(f"sms: {exc}") from None
    except smsru.Transient as exc:
        raise RetryLater(f"sms: {exc}") from None
    except smsru.Unknown as exc:
        raise Uncertain(f"sms: {exc}") from None


def record_sms(client: Any, out: Outgoing, sms_id: str) -> str:
    """The SMS on the record, as an activity of the app (``PROVIDER_ID=REST_APP``,
    ``api-reference/crm/timeline/activities/app-embedding/index.md``); outside an app
    context (webhook mode) the portal refuses that, and a timeline comment records it."""
    plan = out.plan
    fields = {
        "OWNER_TYPE_ID": out.etid,
        "OWNER_ID": out.record_id,
        "PROVIDER_ID": APP_PROVIDER,
        "PROVIDER_TYPE_ID": SMS_TYPE,
        "SUBJECT": f"SMS: {plan.subject}" if plan.subject else "SMS",
        "DESCRIPTION": f"{plan.text}\n\nНомер: {plan.recipient} · SMS.ru id {sms_id}",
        "COMPLETED": "Y",
        "DIRECTION": OUTGOING,
        "COMMUNICATIONS": [
            {
                "VALUE": plan.recipient,
                "ENTITY_ID": out.record_id,
                "ENTITY_TYPE_ID": out.etid,
                "TYPE": "PHONE",
            }
        ],
        "ORIGIN_ID": out.key,
    }
    if out.responsible:
        fields["RESPONSIBLE_ID"] = int(out.responsible)
    try:
        return f"activity:{client.call('crm.activity.add', {'fields': fields})}"
    except PortalError as exc:
        log.info("SMS activity refused (%s); recording a timeline comment", exc.code)
    text = f"SMS клиенту на {plan.recipient}:\n{plan.text}"
    return f"comment:{comment(client, out.entity, out.record_id, out.etid, text)}"


def comment(client: Any, entity: str, record_id: int, etid: int, text: str) -> Any:
    kind = {1: "lead", 2: "deal", 3: "contact", 4: "company"}.get(etid, f"dynamic_{etid}")
    fields = {"ENTITY_ID": int(record_id), "ENTITY_TYPE": kind, "COMMENT": text}
    return client.call("crm.timeline.comment.add", {"fields": fields})


SENDERS = {"email": send_email, "messenger": send_messenger, "sms": send_sms}
STALE_AFTER = timedelta(minutes=10)
