"""Widgets: ``placement.bind/unbind/get/list`` (scope placement + the tool's scope; app only)."""

from __future__ import annotations

import re
from typing import Any

from b24emu.core_state import Placement
from b24emu.methods.app import current_app
from b24emu.methods.event import check_handler
from b24emu.registry import Call, RestError, method

_CRM_OWNERS = ("LEAD", "DEAL", "CONTACT", "COMPANY", "QUOTE", "SMART_INVOICE", "ORDER")
_CRM_KINDS = (
    "DETAIL_TAB",
    "LIST_MENU",
    "DETAIL_TOOLBAR",
    "LIST_TOOLBAR",
    "DETAIL_ACTIVITY",
    "ACTIVITY_TIMELINE_MENU",
)
STATIC = {f"CRM_{o}_{k}": "crm" for o in _CRM_OWNERS for k in _CRM_KINDS}
STATIC.update(
    {
        "CRM_ACTIVITY_LIST_MENU": "crm",
        "CRM_ANALYTICS_MENU": "crm",
        "CRM_ROBOT_DESIGNER_TOOLBAR": "crm",
        "LEFT_MENU": "placement",
        "REST_APP_URI": "placement",
        "PAGE_BACKGROUND_WORKER": "placement",
        "TASK_VIEW_TAB": "task",
        "TASK_VIEW_SIDEBAR": "task",
        "TASK_LIST_CONTEXT_MENU": "task",
        "IM_NAVIGATION": "im",
        "IM_CONTEXT_MENU": "im",
        "IM_TEXTAREA": "im",
        "IM_SIDEBAR": "im",
    }
)
_DYNAMIC = re.compile(
    r"^CRM_DYNAMIC_(\d+)_(DETAIL_TAB|LIST_MENU|DETAIL_TOOLBAR|LIST_TOOLBAR|DETAIL_ACTIVITY|ACTIVITY_TIMELINE_MENU|DOCUMENTGENERATOR_BUTTON)$"
)
SINGLE = {"REST_APP_URI", "PAGE_BACKGROUND_WORKER"}


def placement_scope(code: str) -> str | None:
    if code in STATIC:
        return STATIC[code]
    if _DYNAMIC.match(code):
        return "crm"
    return None


def _code(call: Call) -> str:
    code = call.param("PLACEMENT")
    if not code:
        raise RestError(
            "ERROR_ARGUMENT", "Argument 'PLACEMENT' is null or empty", argument="PLACEMENT"
        )
    return str(code).upper()


def _admin(call: Call) -> None:
    if not call.auth.is_admin:
        raise RestError(
            "ACCESS_DENIED", "Access denied! Administrator authorization required", status=403
        )


@method("placement.bind", scope="placement", app_only=True)
def placement_bind(call: Call) -> bool:
    app = current_app(call)
    _admin(call)
    code = _code(call)
    scope = placement_scope(code)
    if scope is None or (scope != "placement" and scope not in call.auth.scopes):
        raise RestError("ERROR_PLACEMENT_NOT_FOUND", "Placement not found")
    handler_raw = call.param("HANDLER")
    if not handler_raw:
        raise RestError("ERROR_ARGUMENT", "Argument 'HANDLER' is null or empty", argument="HANDLER")
    handler = check_handler(handler_raw)
    core = call.portal.core
    mine = [p for p in core.placements if p.client_id == app.client_id and p.placement == code]
    if code in SINGLE and mine:
        raise RestError("ERROR_PLACEMENT_MAX_COUNT", "Placement max count exceeded")
    if any(p.handler == handler for p in mine):
        raise RestError("ERROR_CORE", "Unable to set placement handler: Handler already binded")
    options = call.param("OPTIONS")
    core.placements.append(
        Placement(
            client_id=app.client_id,
            placement=code,
            handler=handler,
            title=str(call.param("TITLE") or ""),
            description=str(call.param("DESCRIPTION") or ""),
            group_name=str(call.param("GROUP_NAME") or ""),
            lang_all=call.param("LANG_ALL") if isinstance(call.param("LANG_ALL"), dict) else {},
            options=options if isinstance(options, dict) else {},
            user_id=int(call.param("USER_ID") or 0),
        )
    )
    return True


@method("placement.unbind", scope="placement", app_only=True)
def placement_unbind(call: Call) -> dict[str, int]:
    app = current_app(call)
    _admin(call)
    code = _code(call)
    handler = call.param("HANDLER")
    core = call.portal.core

    def matches(p: Placement) -> bool:
        return (
            p.client_id == app.client_id
            and p.placement == code
            and (not handler or p.handler == str(handler).strip())
        )

    kept = [p for p in core.placements if not matches(p)]
    count = len(core.placements) - len(kept)
    core.placements = kept
    return {"count": count}


@method("placement.get", scope="placement", app_only=True)
def placement_get(call: Call) -> list[dict[str, Any]]:
    app = current_app(call)
    _admin(call)
    return [
        {
            "placement": p.placement,
            "userId": p.user_id,
            "handler": p.handler,
            "options": p.options or [],
            "title": p.title,
            "description": p.description,
            "groupName": p.group_name,
            "langAll": p.lang_all or [],
        }
        for p in call.portal.core.placements
        if p.client_id == app.client_id
    ]


@method("placement.list", scope="placement", app_only=True)
def placement_list(call: Call) -> list[str]:
    current_app(call)
    wanted = call.param("SCOPE")
    full = bool(call.param("FULL"))
    codes = []
    for code, scope in sorted(STATIC.items()):
        if wanted and scope != wanted:
            continue
        if not wanted and not full and scope != "placement" and scope not in call.auth.scopes:
            continue
        codes.append(code)
    return codes
