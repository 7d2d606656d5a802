"""``tasks.task.add/update/renew/get/list``: UPPER input, camelCase output with string values.
Fires ONTASKADD / ONTASKUPDATE (§5.6). Checklists live in ``tasks_checklist.py``.

``XML_ID`` (the external identifier: ``api-reference/tasks/tasks-task-get-fields.md``,
``xmlId`` in ``api-reference/tasks/fields.md``) is stored as given and returned as ``xmlId``."""

from __future__ import annotations

from typing import Any

from b24emu import listing
from b24emu.crm import dates
from b24emu.crm.errors import CrmError
from b24emu.crm.naming import snake_to_camel
from b24emu.methods.crm_common import crm, dict_param, list_param
from b24emu.registry import Call, ListPage, RestError, method

STATUSES = (1, 2, 3, 4, 5, 6)
_DATES = (
    "DEADLINE",
    "START_DATE_PLAN",
    "END_DATE_PLAN",
    "CREATED_DATE",
    "CHANGED_DATE",
    "CLOSED_DATE",
)
_INTS = (
    "RESPONSIBLE_ID",
    "CREATED_BY",
    "PRIORITY",
    "STATUS",
    "GROUP_ID",
    "PARENT_ID",
    "CHANGED_BY",
)
_USER_LISTS = ("AUDITORS", "ACCOMPLICES")
_UF = ("UF_CRM_TASK", "UF_TASK_WEBDAV_FILES", "UF_MAIL_MESSAGE")
_ORDER = (
    "ID",
    "PARENT_ID",
    "TITLE",
    "DESCRIPTION",
    "PRIORITY",
    "STATUS",
    "STAGE_ID",
    "CREATED_BY",
    "CREATED_DATE",
    "RESPONSIBLE_ID",
    "CHANGED_BY",
    "CHANGED_DATE",
    "CLOSED_DATE",
    "DEADLINE",
    "START_DATE_PLAN",
    "END_DATE_PLAN",
    "GROUP_ID",
    "AUDITORS",
    "ACCOMPLICES",
    "XML_ID",
)


def task_error(text: str) -> RestError:
    return RestError("ERROR_CORE", text)


def _input(call: Call, fields: dict[str, Any]) -> dict[str, Any]:
    offset = call.portal.timezone_offset
    out: dict[str, Any] = {}
    for key, value in fields.items():
        key = str(key).upper()
        try:
            if key in _DATES:
                out[key] = dates.parse_datetime(value, offset) if value not in (None, "") else None
            elif key in _INTS:
                out[key] = int(value) if value not in (None, "") else None
            elif key in _USER_LISTS:
                out[key] = [
                    int(v) for v in (value.values() if isinstance(value, dict) else value or [])
                ]
            elif key in _UF:
                out[key] = [
                    str(v)
                    for v in (
                        value.values()
                        if isinstance(value, dict)
                        else value
                        if isinstance(value, list)
                        else [value]
                    )
                ]
            elif key in ("TITLE", "DESCRIPTION", "TAGS", "SE_PARAMETER", "XML_ID"):
                out[key] = value
        except (TypeError, ValueError):
            raise task_error(
                f"TASKS_ERROR_EXCEPTION_#256; Wrong value of field {key}; 256/TE/WRONG_DATA"
            ) from None
    if "STATUS" in out and out["STATUS"] not in STATUSES:
        raise task_error("TASKS_ERROR_EXCEPTION_#256; Unknown task status; 256/TE/WRONG_DATA")
    for key in ("RESPONSIBLE_ID", "CREATED_BY"):
        if out.get(key) is not None and call.portal.users and out[key] not in call.portal.users:
            raise task_error(
                f"TASKS_ERROR_EXCEPTION_#256; User not found: {out[key]}; 256/TE/WRONG_DATA"
            )
    return out


def _person(call: Call, user_id: int | None) -> dict[str, str]:
    user = call.portal.users.get(int(user_id or 0), {})
    name = " ".join(p for p in (user.get("NAME"), user.get("LAST_NAME")) if p)
    return {
        "id": str(user_id),
        "name": name,
        "link": f"/company/personal/user/{user_id}/",
        "icon": "",
        "workPosition": user.get("WORK_POSITION", ""),
    }


def render(call: Call, row: dict[str, Any], select: list[str] | None = None) -> dict[str, Any]:
    offset = call.portal.timezone_offset
    out: dict[str, Any] = {}
    for key in _ORDER:
        value = row.get(key, "0" if key == "STAGE_ID" else None)
        if key in _DATES:
            value = dates.iso(value, offset)
        elif key in _USER_LISTS:
            value = [str(v) for v in value or []]
        elif value is not None and not isinstance(value, str):
            value = str(value)
        out[snake_to_camel(key)] = value
    wanted = [s.upper() for s in select or []]
    if any(u in wanted for u in _UF) or "*" in wanted:
        out.update(
            ufCrmTask=list(row.get("UF_CRM_TASK") or []),
            ufTaskWebdavFiles=list(row.get("UF_TASK_WEBDAV_FILES") or []),
            ufMailMessage=row.get("UF_MAIL_MESSAGE"),
        )
    if wanted and "*" not in wanted:
        keep = {snake_to_camel(w) for w in wanted} | {
            "ufCrmTask",
            "ufTaskWebdavFiles",
            "ufMailMessage",
        }
        out = {k: v for k, v in out.items() if k in keep}
    items = [c for c in crm(call).checklist.values() if c["TASK_ID"] == row["ID"]]
    out["checklist"] = [
        {"id": str(c["ID"]), "title": c["TITLE"], "isComplete": c["IS_COMPLETE"]} for c in items
    ]
    out["creator"], out["responsible"] = (
        _person(call, row.get("CREATED_BY")),
        _person(call, row.get("RESPONSIBLE_ID")),
    )
    return out


def _task_id(call: Call) -> int:
    try:
        return int(call.param("taskId"))
    except (TypeError, ValueError):
        raise task_error(
            "TASKS_ERROR_EXCEPTION_#8; Action failed; 8/TE/ACTION_FAILED_TO_BE_PROCESSED"
        ) from None


def task_row(call: Call, task_id: int) -> dict[str, Any]:
    try:
        return crm(call).get_task(task_id)
    except CrmError:
        raise task_error(
            "TASKS_ERROR_EXCEPTION_#8; Task not found or not accessible; 8/TE/ACTION_FAILED_TO_BE_PROCESSED"
        ) from None


@method("tasks.task.add", scope="task")
def task_add(call: Call) -> dict[str, Any]:
    fields = call.param("fields")
    if not isinstance(fields, dict):
        raise task_error("TASKS_ERROR_EXCEPTION_#256; Fields are empty; 256/TE/WRONG_DATA")
    data = _input(call, fields)
    if not str(data.get("TITLE") or "").strip():
        raise task_error("TASKS_ERROR_EXCEPTION_#256; Title is not specified; 256/TE/WRONG_DATA")
    data.setdefault("RESPONSIBLE_ID", call.auth.user_id)
    data.setdefault("CREATED_BY", call.auth.user_id)
    row = crm(call).add_task(data, call.auth.user_id)
    return {"task": render(call, row)}


@method("tasks.task.update", scope="task")
def task_update(call: Call) -> dict[str, Any]:
    task_id = _task_id(call)
    task_row(call, task_id)
    fields = call.param("fields")
    if not isinstance(fields, dict):
        raise task_error("TASKS_ERROR_EXCEPTION_#256; Fields are empty; 256/TE/WRONG_DATA")
    data = _input(call, fields)
    if "TITLE" in data and not str(data["TITLE"] or "").strip():
        raise task_error("TASKS_ERROR_EXCEPTION_#256; Title is not specified; 256/TE/WRONG_DATA")
    return {"task": render(call, crm(call).update_task(task_id, data, call.auth.user_id))}


@method("tasks.task.renew", scope="task")
def task_renew(call: Call) -> dict[str, Any]:
    """Renew a task after its completion (api-reference/tasks/tasks-task-renew.md): back to
    "not executed" — pending, STATUS 2 — and only from Completed, as the method it replaces
    says (api-reference/tasks/deprecated/task-item/task-item-renew.md). The answer is the
    task, like the other status methods (tasks-task-complete.md); ONTASKUPDATE fires."""
    task_id = _task_id(call)
    row = task_row(call, task_id)
    if int(row.get("STATUS") or 0) != 5:
        raise task_error(
            "TASKS_ERROR_EXCEPTION_#8; Action failed; 8/TE/ACTION_FAILED_TO_BE_PROCESSED"
        )
    data = {"STATUS": 2, "CLOSED_DATE": None}
    return {"task": render(call, crm(call).update_task(task_id, data, call.auth.user_id))}


@method("tasks.task.get", scope="task")
def task_get(call: Call) -> dict[str, Any]:
    select = list_param(call, "select")
    return {"task": render(call, task_row(call, _task_id(call)), [str(n) for n in select] or None)}


@method("tasks.task.list", scope="task")
def task_list(call: Call) -> ListPage:
    offset = call.portal.timezone_offset

    def convert(name: str, value: Any) -> Any:
        if name.upper() in _DATES and value not in (None, ""):
            try:
                return dates.parse_datetime(value, offset)
            except ValueError:
                return value
        return value

    flt = {k.upper() if isinstance(k, str) else k: v for k, v in dict_param(call, "filter").items()}
    rows = sorted(crm(call).tasks.values(), key=lambda r: r["ID"])
    rows = listing.filter_rows(rows, flt, convert=convert)
    order = {str(k).upper(): v for k, v in dict_param(call, "order").items()}
    page = listing.page(listing.order_rows(rows, order), call.param("start"))
    select = list_param(call, "select")
    page.result = {
        "tasks": [render(call, r, [str(n) for n in select] or None) for r in page.result]
    }
    return page


@method("tasks.task.delete", scope="task")
def task_delete(call: Call) -> dict[str, Any]:
    task_id = _task_id(call)
    task_row(call, task_id)
    crm(call).delete_task(task_id, call.auth.user_id)
    return {"task": True}
