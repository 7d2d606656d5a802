"""Running robots: placement on stages, runs on stage entry (§6.2), event.send (§6.3).

An admin places a robot on a stage through ``/_emu/robots/place`` (what the automation
designer does); when CRM code reports ``portal.stage_entered(...)`` every robot placed on that
stage runs: the portal mints a workflow id and an ``event_token`` and POSTs the documented
form to the robot's HANDLER. ``bizproc.event.send`` closes the run with return values.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from typing import Any

from b24emu import events
from b24emu.core_state import Robot, RobotPlacement, RobotRun
from b24emu.registry import RestError
from b24emu.state import Portal

_DOC_CLASSES = {
    1: ("CCrmDocumentLead", "LEAD"),
    2: ("CCrmDocumentDeal", "DEAL"),
    3: ("CCrmDocumentContact", "CONTACT"),
    4: ("CCrmDocumentCompany", "COMPANY"),
    7: ("Bitrix\\Crm\\Integration\\BizProc\\Document\\Quote", "QUOTE"),
    31: ("Bitrix\\Crm\\Integration\\BizProc\\Document\\SmartInvoice", "SMART_INVOICE"),
}


# --- placing and running ---------------------------------------------------------------------


def document_ids(etid: int, item_id: int) -> tuple[list[str], list[str]]:
    """(document_id, document_type) per §6.2 table."""
    cls, prefix = _DOC_CLASSES.get(
        etid, ("Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic", f"DYNAMIC_{etid}")
    )
    return ["crm", cls, f"{prefix}_{item_id}"], ["crm", cls, prefix]


def _rule_matches(rule: Any, doc_type: list[str]) -> bool:
    if isinstance(rule, str):
        return rule.lower() == "b24"  # the emulator is a cloud portal
    if isinstance(rule, list):
        return [str(x) for x in rule] == doc_type[: len(rule)]
    return False


def available_for(robot: Robot, etid: int) -> bool:
    """FILTER INCLUDE/EXCLUDE against the entity's document type (what the designer offers)."""
    if not robot.filter:
        return True
    _, doc_type = document_ids(etid, 0)
    flt = {str(k).upper(): v for k, v in robot.filter.items()}
    include, exclude = flt.get("INCLUDE"), flt.get("EXCLUDE")
    if include and not any(_rule_matches(rule, doc_type) for rule in include):
        return False
    return not (exclude and any(_rule_matches(rule, doc_type) for rule in exclude))


def find_robot(portal: Portal, code: str, client_id: str | None = None) -> Robot:
    matches = [
        r
        for (cid, c), r in portal.core.robots.items()
        if c == code.lower() and (client_id is None or cid == client_id)
    ]
    if len(matches) != 1:
        raise KeyError(f"robot {code!r} not found (or ambiguous) for app {client_id!r}")
    return matches[0]


def place(
    portal: Portal,
    *,
    entity_type_id: int,
    stage_id: str,
    code: str,
    category_id: int | None = None,
    client_id: str | None = None,
    properties: dict[str, Any] | None = None,
    timeout: int = 0,
) -> RobotPlacement:
    """Put robot ``code`` on a stage, as the automation designer does."""
    robot = find_robot(portal, code, client_id)
    if not robot.is_robot:
        raise ValueError(f"{code} is an activity, not a robot: it cannot be placed on a stage")
    if not available_for(robot, int(entity_type_id)):
        raise ValueError(f"robot {code} is not available for entity type {entity_type_id} (FILTER)")
    given = properties or {}
    for prop_code, prop in robot.properties.items():
        required = str(prop.get("REQUIRED") or "N").upper() == "Y"
        if required and given.get(prop_code) in (None, "") and prop.get("DEFAULT") in (None, ""):
            raise ValueError(f"property {prop_code} of robot {code} is required")
    placement = RobotPlacement(
        id=portal.core.next_id(),
        entity_type_id=int(entity_type_id),
        category_id=None if category_id in (None, "") else int(category_id),
        stage_id=str(stage_id),
        client_id=robot.client_id,
        code=robot.code,
        properties=dict(properties or {}),
        timeout=int(timeout or 0),
    )
    portal.core.robot_placements.append(placement)
    return placement


def _externalize(
    portal: Portal, prop: dict[str, Any], value: Any, user_id: int | None, etid: int, item_id: int
) -> Any:
    if isinstance(value, list):
        return [_externalize(portal, prop, v, user_id, etid, item_id) for v in value]
    if value is None:
        return ""
    kind = str(prop.get("TYPE") or "string").lower()
    if isinstance(value, str) and "{=Document:" in value:
        resolver = getattr(portal.crm, "document_field", None)
        if resolver is not None:
            value = re.sub(
                r"\{=Document:([A-Za-z0-9_]+)\}",
                lambda m: str(resolver(etid, item_id, m.group(1)) or ""),
                value,
            )
    if kind == "bool":
        return "Y" if str(value).upper() in ("Y", "1", "TRUE") else "N"
    if kind == "user":
        text = str(value).strip().rstrip(";")
        if text in ("Author", "author"):
            return f"user_{user_id or 1}"
        return text if text.startswith("user_") else f"user_{text}"
    return value


def _event_token(workflow_id: str, secret: str) -> str:
    activity = "A" + "_".join(f"{secrets.randbelow(100000):05d}" for _ in range(4))
    event_id = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    signed = f"{workflow_id}|{activity}|{event_id}"
    sig = hmac.new(secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
    return f"{signed}.{sig}"


def start_run(
    portal: Portal, placement: RobotPlacement, item_id: int, user_id: int | None
) -> RobotRun | None:
    core = portal.core
    robot = core.robots.get((placement.client_id, placement.code.lower()))
    app = core.apps.get(placement.client_id)
    if robot is None or app is None or not app.installed or core.config.payment_required:
        return None  # "Rest application status error: payment required" on a real portal
    workflow_id = f"{secrets.token_hex(7)[:13]}.{secrets.randbelow(10**8):08d}"
    token = _event_token(workflow_id, core.config.shared_key)
    values = {
        code: placement.properties.get(code, prop.get("DEFAULT"))
        for code, prop in robot.properties.items()
    }
    props = {
        code: _externalize(
            portal, robot.properties[code], v, user_id, placement.entity_type_id, item_id
        )
        for code, v in values.items()
    }
    timeout = placement.timeout if robot.use_subscription else 0
    doc_id, doc_type = document_ids(placement.entity_type_id, item_id)
    auth_user = robot.auth_user_id or user_id or app.installing_user
    payload = {
        "workflow_id": workflow_id,
        "code": robot.code,
        "document_id": doc_id,
        "document_type": doc_type,
        "event_token": token,
        "properties": props,
        "use_subscription": "Y" if robot.use_subscription else "N",
        "timeout_duration": str(timeout),
        "ts": str(int(portal.clock.now())),
        "auth": events.auth_block(portal, app, auth_user, refresh=True),
    }
    run = RobotRun(
        id=core.next_id(),
        placement_id=placement.id,
        client_id=robot.client_id,
        code=robot.code,
        entity_type_id=placement.entity_type_id,
        item_id=int(item_id),
        workflow_id=workflow_id,
        event_token=token,
        started_at=portal.clock.now(),
        timeout=timeout,
        use_subscription=robot.use_subscription,
        return_properties=dict(robot.return_properties),
    )
    if not robot.use_subscription:
        run.status = "completed"
        run.finished_at = run.started_at
    core.robot_runs.append(run)
    run.delivery_id = portal.runtime.outbox.post(
        "robot", robot.handler, robot.code, payload, robot.client_id
    ).id
    return run


def stage_entered(
    portal: Portal,
    etid: int,
    item_id: int,
    category_id: int | None,
    stage_id: str,
    user_id: int | None,
) -> list[RobotRun]:
    """Run every robot placed on ``stage_id`` of entity type ``etid`` (and that category)."""
    runs = []
    for placement in list(portal.core.robot_placements):
        if placement.entity_type_id != int(etid) or placement.stage_id != str(stage_id):
            continue
        if (
            placement.category_id is not None
            and category_id is not None
            and int(category_id) != placement.category_id
        ):
            continue
        run = start_run(portal, placement, item_id, user_id)
        if run is not None:
            runs.append(run)
    return runs


def expire_runs(portal: Portal) -> None:
    """Runs waiting longer than their timeout finish with IsTimeout=1."""
    now = portal.clock.now()
    for run in portal.core.robot_runs:
        if run.status == "running" and run.timeout > 0 and now >= run.started_at + run.timeout:
            run.status = "timeout"
            run.finished_at = now


def find_run(portal: Portal, event_token: Any) -> RobotRun:
    token = str(event_token or "")
    for run in portal.core.robot_runs:
        if hmac.compare_digest(run.event_token, token):
            return run
    raise RestError("ACCESS_DENIED", "Access denied!", status=403)


def _internalize(prop: dict[str, Any], value: Any) -> Any:
    kind = str(prop.get("TYPE") or "string").lower()
    try:
        if kind == "int":
            return int(float(value))
        if kind == "double":
            return float(value)
    except (TypeError, ValueError):
        return value
    if kind == "bool":
        return "Y" if str(value).upper() in ("Y", "1", "TRUE") else "N"
    return value


def send_event(portal: Portal, event_token: Any, return_values: Any, log_message: Any) -> None:
    """Close a waiting run (``bizproc.event.send``)."""
    run = find_run(portal, event_token)
    expire_runs(portal)
    if run.status != "running":
        raise RestError(
            "ERROR_WORKFLOW_NOT_RUNNING",
            "Workflow is not running or the activity no longer waits for an event",
        )
    values = return_values if isinstance(return_values, dict) else {}
    by_lower = {code.lower(): code for code in run.return_properties}
    for key, value in values.items():
        code = by_lower.get(str(key).lower())
        if code is not None:  # unknown return values are ignored
            run.return_values[code] = _internalize(run.return_properties[code], value)
    if log_message:
        run.log.append(str(log_message))
    run.status = "completed"
    run.finished_at = portal.clock.now()


def run_dict(run: RobotRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "placement_id": run.placement_id,
        "client_id": run.client_id,
        "code": run.code,
        "entity_type_id": run.entity_type_id,
        "item_id": run.item_id,
        "workflow_id": run.workflow_id,
        "event_token": run.event_token,
        "status": run.status,
        "timed_out": run.status == "timeout",
        "timeout": run.timeout,
        "use_subscription": run.use_subscription,
        "return_values": run.return_values,
        "log": run.log,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "delivery_id": run.delivery_id,
    }
