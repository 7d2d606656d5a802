"""``bizproc.robot.*``, ``bizproc.activity.*``, ``bizproc.event.send``, ``bizproc.activity.log``."""

from __future__ import annotations

from b24emu import robots
from b24emu.methods.app import current_app
from b24emu.registry import Call, RestError, method


def _admin_app(call: Call) -> str:
    app = current_app(call)
    if not call.auth.is_admin:
        raise RestError("ACCESS_DENIED", "Access denied!", status=403)
    return app.client_id


def _add(call: Call, is_robot: bool) -> bool:
    client_id = _admin_app(call)
    robot = robots.build_robot(client_id, call.params, is_robot=is_robot)
    key = (client_id, robot.code.lower())
    if key in call.portal.core.robots:
        raise RestError("ERROR_ACTIVITY_ALREADY_INSTALLED", "Activity or Robot already installed!")
    call.portal.core.robots[key] = robot
    return True


def _get(call: Call, is_robot: bool) -> robots.Robot:
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
    robots.apply_update(robot, call.param("FIELDS"))
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
    run = robots.find_run(call.portal, call.param("event_token"))
    message = call.param("log_message")
    if not message:
        raise RestError("ERROR_EMPTY_LOG_MESSAGE", "Empty log message!")
    run.log.append(str(message))
    return True
