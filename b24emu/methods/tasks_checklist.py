"""``task.checklistitem.add/getlist/complete`` (named ``TASKID``/``FIELDS`` or positional)."""

from __future__ import annotations

from typing import Any

from b24emu.crm.errors import CrmError
from b24emu.methods.crm_common import crm
from b24emu.methods.tasks import task_error, task_row
from b24emu.registry import Call, method


def _positional(call: Call, names: tuple[str, ...]) -> list[Any]:
    """Positional task.* parameters: ``{"0": …, "1": …}``, a list, or named keys."""
    out = []
    for pos, name in enumerate(names):
        value = call.param(name)
        if value is None:
            value = call.params.get(str(pos), call.params.get(pos))  # type: ignore[call-overload]
        out.append(value)
    return out


@method("task.checklistitem.add", scope="task")
def checklist_add(call: Call) -> int:
    task_id, fields = _positional(call, ("TASKID", "FIELDS"))
    if not isinstance(fields, dict) or not str(fields.get("TITLE") or "").strip():
        raise task_error(
            "TASKS_ERROR_EXCEPTION_#256; Checklist item title is empty; 256/TE/WRONG_DATA"
        )
    data = {k.upper(): v for k, v in fields.items()}
    for key in ("IS_COMPLETE", "IS_IMPORTANT"):
        if key in data:
            data[key] = "Y" if str(data[key]).upper() in ("Y", "1", "TRUE") else "N"
    data["SORT_INDEX"] = int(data.get("SORT_INDEX") or 0)
    data["PARENT_ID"] = int(data.get("PARENT_ID") or 0)
    try:
        return crm(call).add_checklist_item(int(task_id or 0), data, call.auth.user_id)["ID"]
    except (CrmError, ValueError):
        raise task_error(
            "TASKS_ERROR_EXCEPTION_#8; Task not found or not accessible; 8/TE/ACTION_FAILED_TO_BE_PROCESSED"
        ) from None


@method("task.checklistitem.getlist", scope="task")
def checklist_getlist(call: Call) -> list[dict[str, Any]]:
    (task_id,) = _positional(call, ("TASKID",))
    task_row(call, int(task_id or 0))
    items = sorted(
        (c for c in crm(call).checklist.values() if c["TASK_ID"] == int(task_id)),
        key=lambda c: (c["SORT_INDEX"], c["ID"]),
    )
    return [{k: (str(v) if isinstance(v, int) else v) for k, v in c.items()} for c in items]


@method("task.checklistitem.complete", scope="task")
def checklist_complete(call: Call) -> bool:
    task_id, item_id = _positional(call, ("TASKID", "ITEMID"))
    item = crm(call).checklist.get(int(item_id or 0))
    if item is None or item["TASK_ID"] != int(task_id or 0):
        raise task_error(
            "TASKS_ERROR_EXCEPTION_#8; Checklist item not found; 8/TE/ACTION_FAILED_TO_BE_PROCESSED"
        )
    item.update(
        IS_COMPLETE="Y", TOGGLED_BY=call.auth.user_id, TOGGLED_DATE=int(call.portal.clock.now())
    )
    return True
