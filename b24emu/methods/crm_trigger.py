"""CRM automation triggers: ``crm.automation.trigger.add/list/delete/execute`` (app context,
admin) and the webhook form ``crm.automation.trigger``. Executing moves the item to the stage
where the trigger is placed (``store.place_trigger``), if any."""

from __future__ import annotations

import re

from b24emu.crm.errors import CrmError
from b24emu.crm.schema import TYPE_NAMES
from b24emu.methods.crm_common import crm
from b24emu.registry import Call, RestError, method


def _app_admin(call: Call) -> None:
    if not call.auth.is_app:
        raise RestError("ACCESS_DENIED", "Access denied! Application context required", 403)
    if not call.auth.is_admin:
        raise RestError("ACCESS_DENIED", "Access denied! Admin permissions required", 403)


@method("crm.automation.trigger.add", scope="crm")
def trigger_add(call: Call) -> bool:
    _app_admin(call)
    code, name = str(call.param("CODE") or ""), str(call.param("NAME") or "")
    if not code:
        raise RestError("", "Empty trigger code!")
    if not re.match(r"^[a-z0-9.\-_]+$", code):
        raise RestError("", "Wrong trigger code!")
    if not name:
        raise RestError("", "Empty trigger name!")
    crm(call).triggers[code] = {"CODE": code, "NAME": name, "APP": call.auth.client_id}
    return True


@method("crm.automation.trigger.list", scope="crm")
def trigger_list(call: Call) -> list[dict[str, str]]:
    _app_admin(call)
    return [
        {"NAME": t["NAME"], "CODE": t["CODE"]}
        for t in crm(call).triggers.values()
        if t["APP"] == call.auth.client_id
    ]


@method("crm.automation.trigger.delete", scope="crm")
def trigger_delete(call: Call) -> bool:
    _app_admin(call)
    code = str(call.param("CODE") or "")
    if not code:
        raise RestError("", "Empty trigger code!")
    if code not in crm(call).triggers:
        raise RestError("", "Trigger not found")
    del crm(call).triggers[code]
    return True


@method("crm.automation.trigger.execute", scope="crm")
def trigger_execute(call: Call) -> bool:
    _app_admin(call)
    store = crm(call)
    code = str(call.param("CODE") or "")
    if not code:
        raise RestError("", "Empty trigger code!")
    if code not in store.triggers:
        raise RestError("", f"Trigger with code {code} is not registered.")
    try:
        etid = int(call.param("OWNER_TYPE_ID"))
        store.view(etid)
    except (TypeError, ValueError, CrmError):
        raise RestError("", "Incorrect parameter OWNER_TYPE_ID.") from None
    try:
        store.execute_trigger(code, etid, int(call.param("OWNER_ID")), call.auth.user_id)
    except (TypeError, ValueError, CrmError):
        raise RestError("", "Incorrect parameter OWNER_ID.") from None
    return True


@method("crm.automation.trigger", scope="crm")
def trigger_webhook(call: Call) -> bool:
    target = str(call.param("target") or "")
    if not target:
        raise RestError("", "Target is not set.")
    m = re.match(r"^([A-Z_]+?)_(\d+)$", target.upper())
    etid = next((e for e, n in TYPE_NAMES.items() if m and n == m.group(1)), None)
    if m is None or etid is None:
        raise RestError("", "Incorrect target format.")
    try:
        crm(call).execute_trigger(
            str(call.param("code") or ""), etid, int(m.group(2)), call.auth.user_id
        )
    except CrmError:
        raise RestError("", "Target is not found.") from None
    return True
