"""Open lines bound to CRM: ``imopenlines.crm.chat.get``, ``imopenlines.crm.chat.getLastId``,
``imopenlines.crm.message.add`` (``api-reference/imopenlines/openlines/chats/*.md`` and
``.../messages/imopenlines-crm-message-add.md``). Chats are set up through the admin
surface (``POST /_emu/openlines/chats``); messages sent are listed by ``GET /_emu/sent``."""

from __future__ import annotations

from typing import Any

from b24emu import messaging
from b24emu.registry import Call, RestError, method

TYPES = ("lead", "deal", "company", "contact")


def _entity(call: Call) -> tuple[str, int]:
    kind = str(call.require("CRM_ENTITY_TYPE") or "").lower()
    raw = call.require("CRM_ENTITY")
    try:
        rid = int(raw)
    except (TypeError, ValueError):
        raise RestError(
            "ERROR_ARGUMENT", "The value of an argument 'CRM_ENTITY' has an invalid type"
        ) from None
    if kind not in TYPES:
        raise RestError("ERROR_ARGUMENT", "Argument 'CRM_ENTITY_TYPE' is null or empty")
    return kind, rid


def _bound(call: Call, kind: str, rid: int, active_only: bool = True) -> list[dict[str, Any]]:
    chats = messaging.of(call.portal).openline_chats.values()
    return [
        c
        for c in chats
        if c["CRM_ENTITY_TYPE"] == kind
        and c["CRM_ENTITY"] == rid
        and (c["ACTIVE"] or not active_only)
    ]


@method("imopenlines.crm.chat.get", scope="imopenlines")
def crm_chat_get(call: Call) -> list[dict[str, str]]:
    kind, rid = _entity(call)
    active = str(call.param("ACTIVE_ONLY") or "Y").upper() != "N"
    return [
        {
            "CHAT_ID": str(c["CHAT_ID"]),
            "CONNECTOR_ID": c["CONNECTOR_ID"],
            "CONNECTOR_TITLE": c["CONNECTOR_TITLE"],
        }
        for c in _bound(call, kind, rid, active)
    ]


@method("imopenlines.crm.chat.getLastId", scope="imopenlines")
def crm_chat_last(call: Call) -> int:
    kind, rid = _entity(call)
    found = _bound(call, kind, rid, active_only=False)
    if not found:
        raise RestError("CRM_CHAT_EMPTY_CRM_DATA", "Empty CRM data")
    return int(found[-1]["CHAT_ID"])


@method("imopenlines.crm.message.add", scope="imopenlines")
def crm_message_add(call: Call) -> int:
    kind, rid = _entity(call)
    user = int(call.require("USER_ID") or 0)
    chat_id = int(call.require("CHAT_ID") or 0)
    text = str(call.require("MESSAGE") or "")
    state = messaging.of(call.portal)
    chat = state.openline_chats.get(chat_id)
    if chat is None or chat["CRM_ENTITY_TYPE"] != kind or chat["CRM_ENTITY"] != rid:
        raise RestError("CHAT_NOT_IN_CRM", "Chat does not belong to the CRM entity being checked")
    if user not in chat["USERS"]:
        raise RestError("CANCELED", "You cannot send messages to the specified chat")
    message_id = state.message_id()
    state.log(
        "openline",
        call.portal.clock.now(),
        message_id=message_id,
        chat_id=chat_id,
        connector=chat["CONNECTOR_ID"],
        crm_entity_type=kind,
        crm_entity=rid,
        user_id=user,
        text=text,
    )
    return message_id
