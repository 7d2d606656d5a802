"""Notifications: ``im.notify.system.add``, ``im.notify.personal.add`` and ``im.notify``.

Every notification is kept in ``portal.crm.notifications`` so tests and the admin surface can
see who was notified with what.
"""

from __future__ import annotations

import json
from typing import Any

from b24emu.methods.crm_common import crm
from b24emu.registry import Call, RestError, method

MAX_ATTACH = 60_000


def _notify(call: Call, kind: str) -> int:
    try:
        user_id = int(call.param("USER_ID") or 0)
    except (TypeError, ValueError):
        user_id = 0
    if user_id <= 0:
        raise RestError("USER_ID_EMPTY", "User ID can't be empty")
    message = str(call.param("MESSAGE") or "").strip()
    if not message:
        raise RestError("MESSAGE_EMPTY", "Message can't be empty")
    attach: Any = call.param("ATTACH")
    if isinstance(attach, str) and attach:
        if len(attach) > MAX_ATTACH:
            raise RestError(
                "ATTACH_OVERSIZE", "You have exceeded the maximum allowable size of attachments"
            )
        try:
            attach = json.loads(attach)
        except ValueError:
            raise RestError("ATTACH_ERROR", "Incorrect attach params") from None
    elif attach is not None and len(json.dumps(attach)) > MAX_ATTACH:
        raise RestError(
            "ATTACH_OVERSIZE", "You have exceeded the maximum allowable size of attachments"
        )
    client_id = call.auth.client_id if call.auth.is_app else call.param("CLIENT_ID")
    row = crm(call).notify(
        user_id,
        message,
        kind=kind,
        from_user=None if kind == "system" else call.auth.user_id,
        tag=call.param("TAG") or None,
        sub_tag=call.param("SUB_TAG") or None,
        message_out=call.param("MESSAGE_OUT"),
        attach=attach,
        client_id=client_id,
    )
    return row["id"]


@method("im.notify.system.add", scope="im")
def notify_system_add(call: Call) -> int:
    return _notify(call, "system")


@method("im.notify.personal.add", scope="im")
def notify_personal_add(call: Call) -> int:
    return _notify(call, "personal")


@method("im.notify", scope="im")
def notify(call: Call) -> int:
    kind = "personal" if str(call.param("TYPE") or "USER").upper() == "USER" else "system"
    return _notify(call, kind)
