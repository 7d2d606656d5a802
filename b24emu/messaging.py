"""What the emulated portal "sends": e-mails of CRM activities, open-line chats bound to CRM
records and the messages in them, group chats and their messages.

Kept on ``portal.messaging`` (created on first use; not saved with ``--state``). The admin
surface (``b24emu.messaging_admin``) lists everything sent (``GET /_emu/sent``) and sets up
what an admin connects in a real portal: CRM mailboxes and open-line chats.

Behaviour follows the official docs:

* e-mail — ``crm.activity.add`` sends the letter only when TYPE_ID=4, DIRECTION=2 and
  COMPLETED=Y come together; the sender is ``SETTINGS.MESSAGE_FROM`` ("Name <address>"),
  else the responsible's CRM mailbox, else the shared CRM mailbox; with none the activity is
  created and the call answers ``Email send error. "From" is not found``; an empty or
  invalid recipient → ``Email send error. "To" is not found`` / ``Invalid email is
  specified`` (``tutorials/crm/how-to-add-crm-objects/how-to-send-email.md``).
* open lines — chats are bound to CRM records (``imopenlines.crm.chat.get``), a message
  needs the chat to belong to that record (``CHAT_NOT_IN_CRM``) and the sender to be a
  participant (``CANCELED``) (``api-reference/imopenlines/openlines/messages/
  imopenlines-crm-message-add.md``).
* chats — ``im.chat.add`` creates a chat (the creator is its owner), ``im.message.add`` with
  ``DIALOG_ID=chat<id>`` writes into it (``api-reference/chats/messages/im-message-add.md``).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_FROM = re.compile(r"<([^<>]*)>\s*$")


@dataclass
class Messaging:
    mailboxes: dict[int, str] = field(default_factory=dict)  # user id → CRM mailbox
    shared_mailbox: str | None = None
    openline_chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    next_chat: int = 1001
    next_message: int = 50001
    lock: threading.Lock = field(default_factory=threading.Lock)

    def message_id(self) -> int:
        with self.lock:
            self.next_message += 1
            return self.next_message

    def chat_id(self) -> int:
        with self.lock:
            self.next_chat += 1
            return self.next_chat

    def log(self, kind: str, now: float, **row: Any) -> dict[str, Any]:
        entry = {"kind": kind, "ts": now, **row}
        with self.lock:
            self.sent.append(entry)
        return entry


def of(portal: Any) -> Messaging:
    state = getattr(portal, "messaging", None)
    if state is None:
        state = Messaging()
        portal.messaging = state
    return state


def valid_address(value: Any) -> bool:
    return bool(_ADDRESS.match(str(value or "").strip()))


def email_sender(portal: Any, settings: Any, responsible: int) -> str | None:
    """The "From" address: MESSAGE_FROM's address in <…>, the responsible's CRM mailbox,
    the shared CRM mailbox — or None."""
    state = of(portal)
    given = (settings or {}).get("MESSAGE_FROM") if isinstance(settings, dict) else None
    if given:
        found = _FROM.search(str(given))
        return found.group(1).strip() if found else str(given).strip()
    return state.mailboxes.get(int(responsible or 0)) or state.shared_mailbox


def send_email(portal: Any, row: dict[str, Any]) -> str | None:
    """Send the letter of e-mail activity ``row`` (already created); the error text of the
    portal when it cannot, else None."""
    if not (
        int(row.get("TYPE_ID") or 0) == 4
        and int(row.get("DIRECTION") or 0) == 2
        and str(row.get("COMPLETED") or "N") == "Y"
    ):
        return None  # a planned or incoming e-mail: recorded, not sent
    sender = email_sender(portal, row.get("SETTINGS"), int(row.get("RESPONSIBLE_ID") or 0))
    if not sender:
        return 'Email send error. "From" is not found'
    recipients = [
        str(c.get("VALUE") or "").strip()
        for c in row.get("COMMUNICATIONS") or []
        if isinstance(c, dict) and str(c.get("TYPE") or "EMAIL").upper() == "EMAIL"
    ]
    recipients = [r for r in recipients if r]
    if not recipients:
        return 'Email send error. "To" is not found'
    if not valid_address(sender) or not all(valid_address(r) for r in recipients):
        return "Email send error. Invalid email is specified"
    of(portal).log(
        "email",
        portal.clock.now(),
        activity_id=int(row["ID"]),
        owner_type_id=int(row.get("OWNER_TYPE_ID") or 0),
        owner_id=int(row.get("OWNER_ID") or 0),
        sender=sender,
        to=recipients,
        subject=row.get("SUBJECT") or "",
        body=row.get("DESCRIPTION") or "",
    )
    return None


def add_openline_chat(
    portal: Any, entity_type: str, entity_id: int, *, connector: str, users: list[int]
) -> dict[str, Any]:
    """A client's open-line chat (WhatsApp/Telegram/… connector) bound to a CRM record."""
    state = of(portal)
    chat = {
        "CHAT_ID": state.chat_id(),
        "CONNECTOR_ID": connector,
        "CONNECTOR_TITLE": connector.title(),
        "CRM_ENTITY_TYPE": entity_type.lower(),
        "CRM_ENTITY": int(entity_id),
        "USERS": [int(u) for u in users],
        "ACTIVE": True,
    }
    state.openline_chats[chat["CHAT_ID"]] = chat
    return chat
