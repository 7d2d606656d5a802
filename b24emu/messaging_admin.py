"""Admin surface for messaging (``/_emu/…``): what the portal sent, and the portal-side set-up
an admin does in a real Bitrix24 (CRM mailboxes, open-line chats with clients).

| Endpoint | Body / query | Answer |
|---|---|---|
| ``GET /_emu/sent`` | ``kind`` (email/openline/chat), ``chat_id``, ``owner_id`` | rows sent |
| ``POST /_emu/sent/reset`` | — | cleared |
| ``POST /_emu/mail/mailboxes`` | ``user_id`` + ``email``, or ``shared: true`` + ``email`` | mailboxes |
| ``POST /_emu/openlines/chats`` | ``entity_type`` (lead/deal/contact/company), ``entity_id``, ``connector`` (default telegrambot), ``users`` [ids] | the chat |
| ``POST /_emu/openlines/close`` | ``chat_id`` | the chat, inactive |
| ``GET /_emu/chats`` | — | group chats with their messages |
"""

from __future__ import annotations

from typing import Any

from b24emu import messaging


def sent(portal: Any, body: dict[str, Any], request: Any) -> Any:
    rows = list(messaging.of(portal).sent)
    for key in ("kind", "chat_id", "owner_id"):
        if body.get(key) not in (None, ""):
            rows = [r for r in rows if str(r.get(key)) == str(body[key])]
    return rows


def reset_sent(portal: Any, body: dict[str, Any], request: Any) -> Any:
    messaging.of(portal).sent.clear()
    return {"ok": True}


def mailboxes(portal: Any, body: dict[str, Any], request: Any) -> Any:
    state = messaging.of(portal)
    email = str(body.get("email") or "").strip()
    if not messaging.valid_address(email):
        raise ValueError("email: a valid address is required")
    if body.get("shared"):
        state.shared_mailbox = email
    else:
        state.mailboxes[int(body["user_id"])] = email
    return {"users": state.mailboxes, "shared": state.shared_mailbox}


def openline_chat(portal: Any, body: dict[str, Any], request: Any) -> Any:
    kind = str(body.get("entity_type") or "").lower()
    if kind not in ("lead", "deal", "contact", "company"):
        raise ValueError("entity_type: lead, deal, contact or company")
    users = [int(u) for u in body.get("users") or [1]]
    return messaging.add_openline_chat(
        portal,
        kind,
        int(body["entity_id"]),
        connector=str(body.get("connector") or "telegrambot"),
        users=users,
    )


def close_openline_chat(portal: Any, body: dict[str, Any], request: Any) -> Any:
    chat = messaging.of(portal).openline_chats[int(body["chat_id"])]
    chat["ACTIVE"] = False
    return chat


def chats(portal: Any, body: dict[str, Any], request: Any) -> Any:
    return list(messaging.of(portal).chats.values())


ROUTES = [
    ("GET", "sent", sent),
    ("POST", "sent/reset", reset_sent),
    ("POST", "mail/mailboxes", mailboxes),
    ("POST", "openlines/chats", openline_chat),
    ("POST", "openlines/close", close_openline_chat),
    ("GET", "chats", chats),
]
