"""``bizproc.robot.*``, ``bizproc.activity.*`` (registration and its §6.1 validation),
``bizproc.event.send``, ``bizproc.activity.log``. Running robots lives in ``b24emu.robots``."""

from __future__ import annotations

import re
from typing import Any

from b24emu import robots
from b24emu.core_state import Robot
from b24emu.methods.app import current_app
from b24emu.methods.event import check_handler
from b24emu.registry import Call, RestError, method

PROPERTY_TYPES = {
    "bool",
    "date",
    "datetime",
    "double",
    "int",
    "select",
    "string",
    "text",
    "user",
    "file",
}
_CODE = re.compile(r"^[a-z0-9.\-_]+$", re.I)
_PROP_KEY = re.compile(r"^[a-z][a-z0-9_]*$", re.I)


def _fail(message: str) -> RestError:
    return RestError("ERROR_ACTIVITY_VALIDATION_FAILURE", message)


def _upper_keys(data: Any) -> dict[str, Any]:
    return {str(k).upper(): v for k, v in data.items()} if isinstance(data, dict) else {}


def _yn(value: Any, default: bool) -> bool:
    if value in (None, ""):
        return default
    return str(value).upper() in ("Y", "1", "TRUE")


def _properties(value: Any) -> dict[str, dict[str, Any]]:
    """Validate PROPERTIES/RETURN_PROPERTIES: codes keep case, property keys upper-cased."""
    if value in (None, "", []):
        return {}
    if not isinstance(value, dict):
        raise _fail("Wrong properties array!")
    out = {}
    for code, prop in value.items():
        if not _PROP_KEY.match(str(code)):
            raise _fail(f"Wrong property key ({code})!")
        prop = _upper_keys(prop)
        if not prop.get("NAME"):
            raise _fail(f"Empty property NAME ({code})!")
        out[str(code)] = prop
    return out


def _document_type(value: Any) -> list[str] | None:
    if value in (None, "", []):
        return None
    if not isinstance(value, list) or len(value) != 3:
        raise _fail("Wrong activity DOCUMENT_TYPE!")
    return [str(v) for v in value]


def _filter(value: Any) -> dict[str, Any] | None:
    if value in (None, "", []):
        return None
    if not isinstance(value, dict):
        raise _fail("Wrong activity FILTER!")
    return value


def build_robot(client_id: str, params: dict[str, Any], *, is_robot: bool) -> Robot:
    """A validated robot/activity from ``bizproc.robot.add`` parameters."""
    data = _upper_keys(params)
    data.pop("AUTH", None)
    if not data:
        raise _fail("Empty data!")
    code = str(data.get("CODE") or "")
    if not code:
        raise _fail("Empty activity code!")
    if not _CODE.match(code):
        raise _fail("Wrong activity code!")
    handler = check_handler(data.get("HANDLER"))
    if not data.get("NAME"):
        raise _fail("Empty activity NAME!")
    use_placement = _yn(data.get("USE_PLACEMENT"), False)
    placement_handler = data.get("PLACEMENT_HANDLER")
    if use_placement:
        placement_handler = check_handler(placement_handler)
    return Robot(
        client_id=client_id,
        code=code,
        is_robot=is_robot,
        handler=handler,
        auth_user_id=int(data.get("AUTH_USER_ID") or 0),
        use_subscription=_yn(data.get("USE_SUBSCRIPTION"), True),
        name=data.get("NAME"),
        description=data.get("DESCRIPTION"),
        properties=_properties(data.get("PROPERTIES")),
        return_properties=_properties(data.get("RETURN_PROPERTIES")),
        document_type=_document_type(data.get("DOCUMENT_TYPE")),
        filter=_filter(data.get("FILTER")),
        use_placement=use_placement,
        placement_handler=placement_handler,
    )


UPDATABLE = (
    "HANDLER",
    "AUTH_USER_ID",
    "USE_SUBSCRIPTION",
    "USE_PLACEMENT",
    "NAME",
    "DESCRIPTION",
    "PROPERTIES",
    "RETURN_PROPERTIES",
    "DOCUMENT_TYPE",
    "FILTER",
    "PLACEMENT_HANDLER",
)


def apply_update(robot: Robot, fields: Any) -> None:
    """``bizproc.robot.update`` FIELDS, validated before anything changes."""
    data = {k: v for k, v in _upper_keys(fields).items() if k in UPDATABLE}
    if not data:
        raise _fail("No fields to update")
    changes: dict[str, Any] = {}
    if "HANDLER" in data:
        changes["handler"] = check_handler(data["HANDLER"])
    if "AUTH_USER_ID" in data:
        changes["auth_user_id"] = int(data["AUTH_USER_ID"] or 0)
    if "USE_SUBSCRIPTION" in data:
        changes["use_subscription"] = _yn(data["USE_SUBSCRIPTION"], True)
    if "USE_PLACEMENT" in data:
        changes["use_placement"] = _yn(data["USE_PLACEMENT"], False)
    if "NAME" in data:
        if not data["NAME"]:
            raise _fail("Empty activity NAME!")
        changes["name"] = data["NAME"]
    if "DESCRIPTION" in data:
        changes["description"] = data["DESCRIPTION"]
    if "PROPERTIES" in data:
        changes["properties"] = _properties(data["PROPERTIES"])
    if "RETURN_PROPERTIES" in data:
        changes["return_properties"] = _properties(data["RETURN_PROPERTIES"])
    if "DOCUMENT_TYPE" in data:
        changes["document_type"] = _document_type(data["DOCUMENT_TYPE"])
    if "FILTER" in data:
        changes["filter"] = _filter(data["FILTER"])
    if "PLACEMENT_HANDLER" in data:
        changes["placement_handler"] = (
            check_handler(data["PLACEMENT_HANDLER"]) if data["PLACEMENT_HANDLER"] else None
        )
    for key, value in changes.items():
        setattr(robot, key, value)


# --- methods ---------------------------------------------------------------------------


def _admin_app(call: Call) -> str:
    app = current_app(call)
    if not call.auth.is_admin:
        raise RestError("ACCESS_DENIED", "Access denied!", status=403)
    return app.client_id


def _add(call: Call, is_robot: bool) -> bool:
    client_id = _admin_app(call)
    robot = build_robot(client_id, call.params, is_robot=is_robot)
    key = (client_id, robot.code.lower())
    if key in call.portal.core.robots:
        raise RestError("ERROR_ACTIVITY_ALREADY_INSTALLED", "Activity or Robot already installed!")
    call.portal.core.robots[key] = robot
    return True


def _get(call: Call, is_robot: bool) -> Robot:
    client_id = _admin_app(call)
    code = str(call.param("CODE") or "")
    if not code:
        raise RestError("ERROR_ACTIVITY_VALIDATION_FAILURE", "Empty activity code!")
    robot = call.portal.core.robots.get((client_id, code.lower()))
    if robot is None or robot.is_robot != is_robot:
        raise RestError("ERROR_ACTIVITY_NOT_FOUND", "Activity or Robot not found!")
    return robot


def _update(call: Call, is_robot: bool) -> bool:
    robot = _get(call, is_robot)
    apply_update(robot, call.param("FIELDS"))
    return True


def _delete(call: Call, is_robot: bool) -> bool:
    robot = _get(call, is_robot)
    core = call.portal.core
    del core.robots[(robot.client_id, robot.code.lower())]
    core.robot_placements = [
        p
        for p in core.robot_placements
        if not (p.client_id == robot.client_id and p.code.lower() == robot.code.lower())
    ]
    return True


def _list(call: Call, is_robot: bool) -> list[str]:
    client_id = _admin_app(call)
    return [
        r.code
        for (cid, _), r in call.portal.core.robots.items()
        if cid == client_id and r.is_robot == is_robot
    ]


for _kind, _is_robot in (("robot", True), ("activity", False)):
    method(f"bizproc.{_kind}.add", scope="bizproc", app_only=True)(
        lambda call, r=_is_robot: _add(call, r)
    )
    method(f"bizproc.{_kind}.update", scope="bizproc", app_only=True)(
        lambda call, r=_is_robot: _update(call, r)
    )
    method(f"bizproc.{_kind}.delete", scope="bizproc", app_only=True)(
        lambda call, r=_is_robot: _delete(call, r)
    )
    method(f"bizproc.{_kind}.list", scope="bizproc", app_only=True)(
        lambda call, r=_is_robot: _list(call, r)
    )


@method("bizproc.event.send", scope="bizproc")
def event_send(call: Call) -> bool:
    robots.send_event(
        call.portal,
        call.param("event_token"),
        call.param("return_values"),
        call.param("log_message"),
    )
    return True


@method("bizproc.activity.log", scope="bizproc")
def activity_log(call: Call) -> bool:
    """api-reference/bizproc/bizproc-activity/bizproc-activity-log.md: "who can execute the
    method: administrator"; "logging is possible if the application action is subscribed
    with USE_SUBSCRIPTION: Y"; a token the portal did not issue → ACCESS_DENIED."""
    if not call.auth.is_admin:
        raise RestError("ACCESS_DENIED", "Access denied!", status=403)
    run = robots.find_run(call.portal, call.param("event_token"))
    if not run.use_subscription:
        raise RestError("ACCESS_DENIED", "Access denied!", status=403)
    message = call.param("log_message")
    if not message:
        raise RestError("ERROR_EMPTY_LOG_MESSAGE", "Empty log message!")
    run.log.append(str(message))
    return True
