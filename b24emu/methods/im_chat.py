"""Group chats: ``im.chat.add`` and ``im.message.add`` (``api-reference/chats/im-chat-add.md``,
``api-reference/chats/messages/im-message-add.md``). A message to ``chat<id>`` needs the
chat to exist (``CHAT_ID``) and the sender to be a member (``ACCESS_ERROR``); a bare user id
is a personal dialog. Everything sent is listed by ``GET /_emu/sent`` (kind ``chat``)."""

from __future__ import annotations

from typing import Any

from b24emu import messaging
from b24emu.registry import Call, RestError, method


@method("im.chat.add", scope="im")
def chat_add(call: Call) -> int:
    state = messaging.of(call.portal)
    owner = int(call.auth.user_id or 1)
    users = call.param("USERS") or []
    if isinstance(users, dict):
        users = list(users.values())
    members = [owner] + [int(u) for u in users if str(u).isdigit() and int(u) != owner]
    chat_id = state.chat_id()
    state.chats[chat_id] = {
        "ID": chat_id,
        "TITLE": str(call.param("TITLE") or f"Chat №{chat_id}"),
        "TYPE": str(call.param("TYPE") or "CHAT").upper(),
        "OWNER": owner,
        "USERS": members,
        "messages": [],
    }
    first = str(call.param("MESSAGE") or "").strip()
    if first:
        _post(call, state, chat_id, owner, first)
    return chat_id


def _post(call: Call, state: Any, chat_id: int, user: int, text: str) -> int:
    message_id = state.message_id()
    state.chats[chat_id]["messages"].append({"id": message_id, "author_id": user, "text": text})
    state.log("chat", call.portal.clock.now(), message_id=message_id, dialog_id=f"chat{chat_id}",
              chat_id=chat_id, user_id=user, text=text)  # fmt: skip
    return message_id


@method("im.message.add", scope="im")
def message_add(call: Call) -> int:
    state = messaging.of(call.portal)
    dialog = str(call.param("DIALOG_ID") or "").strip().lower()
    text = str(call.param("MESSAGE") or "").strip()
    if not text and not call.param("ATTACH"):
        raise RestError("MESSAGE_EMPTY", "Message can't be empty")
    user = int(call.auth.user_id or 1)
    if dialog.startswith("chat"):
        try:
            chat_id = int(dialog[4:])
        except ValueError:
            chat_id = 0
        chat = state.chats.get(chat_id)
        if chat is None:
            raise RestError("CHAT_ID", "Error creating message")
        if user not in chat["USERS"] and chat["TYPE"] != "OPEN":
            raise RestError("ACCESS_ERROR", "Action unavailable")
        return _post(call, state, chat_id, user, text)
    if not dialog.isdigit() or int(dialog) <= 0:
        raise RestError("USER_ID_EMPTY", "User ID can't be empty")
    if int(dialog) not in call.portal.users:
        raise RestError("USER_NOT_FOUND", "User not found")
    message_id = state.message_id()
    state.log("chat", call.portal.clock.now(), message_id=message_id, dialog_id=dialog,
              chat_id=None, user_id=user, text=text)  # fmt: skip
    return message_id
