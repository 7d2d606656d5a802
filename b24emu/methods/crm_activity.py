"""``crm.activity.*`` (legacy activities incl. e-mail TYPE_ID=4 and provider-based ones such
as SMS) and ``crm.activity.todo.add``. Fires ONCRMACTIVITYADD/UPDATE/DELETE."""

from __future__ import annotations

from typing import Any

from b24emu import listing, messaging
from b24emu.crm import dates
from b24emu.crm.errors import CrmError
from b24emu.methods.crm_common import crm, dict_param, list_param
from b24emu.registry import Call, ListPage, RestError, method

TYPE_EMAIL, TYPE_TODO, TYPE_PROVIDER = 4, 6, 6
_DATETIMES = ("START_TIME", "END_TIME", "DEADLINE", "CREATED", "LAST_UPDATED")
_INTS = (
    "ID",
    "OWNER_ID",
    "OWNER_TYPE_ID",
    "TYPE_ID",
    "RESPONSIBLE_ID",
    "AUTHOR_ID",
    "EDITOR_ID",
    "DIRECTION",
    "PRIORITY",
    "STATUS",
)


def render(call: Call, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in _DATETIMES:
            out[key] = dates.iso(value, call.portal.timezone_offset) if value is not None else ""
        elif key in _INTS and value is not None:
            out[key] = str(value)
        else:
            out[key] = value
    return out


def _input(call: Call, fields: dict[str, Any], *, adding: bool) -> dict[str, Any]:
    offset = call.portal.timezone_offset
    out: dict[str, Any] = {}
    for key, value in fields.items():
        key = str(key).upper()
        try:
            if key in _DATETIMES:
                out[key] = dates.parse_datetime(value, offset) if value not in (None, "") else None
            elif key in _INTS:
                out[key] = int(value)
            elif key == "COMPLETED":
                out[key] = "Y" if str(value).upper() in ("Y", "1", "TRUE") else "N"
            elif key == "COMMUNICATIONS":
                comms = list(value.values()) if isinstance(value, dict) else list(value or [])
                out[key] = [
                    {k.upper(): v for k, v in c.items()} for c in comms if isinstance(c, dict)
                ]
            else:
                out[key] = value
        except (TypeError, ValueError):
            raise RestError("", f"The field {key} has invalid value.") from None
    if adding:
        if out.get("PROVIDER_ID") and out.get("TYPE_ID") in (None, ""):
            out["TYPE_ID"] = TYPE_PROVIDER  # an app's/provider's activity (app-embedding docs)
        for key in ("OWNER_TYPE_ID", "OWNER_ID", "TYPE_ID", "SUBJECT"):
            if out.get(key) in (None, ""):
                raise RestError("", f"The field {key} is required.")
        if out["TYPE_ID"] == TYPE_EMAIL and not out.get("COMMUNICATIONS"):
            raise RestError("", "The field COMMUNICATIONS is required.")
        try:
            crm(call).get_item(out["OWNER_TYPE_ID"], out["OWNER_ID"])
        except CrmError:
            raise RestError("", "Owner not found.") from None
    return out


def _id(call: Call) -> int:
    try:
        return int(call.param("id"))
    except (TypeError, ValueError):
        raise RestError("", "ID is not defined or invalid.") from None


@method("crm.activity.add", scope="crm")
def activity_add(call: Call) -> int:
    """Creates the activity; an outgoing completed e-mail is also sent (``b24emu.messaging``):
    when it cannot be, the activity stays and the call answers the ``Email send error``.
    ``PROVIDER_ID=REST_APP`` needs an application context
    (``api-reference/crm/timeline/activities/app-embedding/index.md``)."""
    fields = call.param("fields")
    if not isinstance(fields, dict):
        raise RestError("", "Parameter 'fields' must be array.")
    data = _input(call, fields, adding=True)
    if str(data.get("PROVIDER_ID") or "").upper() == "REST_APP" and not call.auth.is_app:
        raise RestError("", "Application context required")
    row = crm(call).add_activity(data, call.auth.user_id)
    problem = messaging.send_email(call.portal, row)
    if problem:
        raise RestError("", problem)
    return row["ID"]


@method("crm.activity.update", scope="crm")
def activity_update(call: Call) -> bool:
    activity_id = _id(call)
    fields = call.param("fields") or {}
    try:
        crm(call).update_activity(
            activity_id, _input(call, fields, adding=False), call.auth.user_id
        )
    except CrmError:
        raise RestError("", "Not found") from None
    return True


@method("crm.activity.get", scope="crm")
def activity_get(call: Call) -> dict[str, Any]:
    try:
        return render(call, crm(call).get_activity(_id(call)))
    except CrmError:
        raise RestError("", "Not found") from None


@method("crm.activity.delete", scope="crm")
def activity_delete(call: Call) -> bool:
    try:
        crm(call).delete_activity(_id(call), call.auth.user_id)
    except CrmError:
        raise RestError("", "Not found") from None
    return True


@method("crm.activity.list", scope="crm")
def activity_list(call: Call) -> ListPage:
    offset = call.portal.timezone_offset

    def convert(name: str, value: Any) -> Any:
        if name.upper() in _DATETIMES and value not in (None, ""):
            try:
                return dates.parse_datetime(value, offset)
            except ValueError:
                return value
        return value

    rows = sorted(crm(call).activities.values(), key=lambda r: r["ID"])
    rows = listing.filter_rows(rows, dict_param(call, "filter"), convert=convert)
    rows = listing.order_rows(rows, dict_param(call, "order"))
    page = listing.page(rows, call.param("start"))
    select = [str(s).upper() for s in list_param(call, "select")]
    page.result = [
        {k: v for k, v in render(call, r).items() if not select or "*" in select or k in select}
        for r in page.result
    ]
    return page


@method("crm.activity.todo.add", scope="crm")
def activity_todo_add(call: Call) -> dict[str, int]:
    for name in ("ownerTypeId", "ownerId", "deadline"):
        if call.param(name) in (None, ""):
            raise RestError("100", f"Could not find value for parameter {{{name}}}")
    try:
        deadline = dates.parse_datetime(call.param("deadline"), call.portal.timezone_offset)
    except ValueError:
        raise RestError("WRONG_DATETIME_FORMAT", "Wrong datetime format") from None
    try:
        etid, owner_id = int(call.param("ownerTypeId")), int(call.param("ownerId"))
        crm(call).get_item(etid, owner_id)
    except (TypeError, ValueError, CrmError):
        raise RestError("OWNER_NOT_FOUND", "Owner not found") from None
    fields = {
        "OWNER_TYPE_ID": etid,
        "OWNER_ID": owner_id,
        "TYPE_ID": TYPE_TODO,
        "PROVIDER_ID": "CRM_TODO",
        "PROVIDER_TYPE_ID": "TODO",
        "SUBJECT": str(call.param("title") or ""),
        "DESCRIPTION": str(call.param("description") or ""),
        "DEADLINE": deadline,
        "END_TIME": deadline,
        "RESPONSIBLE_ID": int(call.param("responsibleId") or call.auth.user_id),
        "PING_OFFSETS": list(call.param("pingOffsets") or []),
        "COLOR_ID": call.param("colorId"),
    }
    return {"id": crm(call).add_activity(fields, call.auth.user_id)["ID"]}
