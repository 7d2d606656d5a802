"""The /_emu/ admin and test surface (JSON in, JSON out). Every endpoint is in README.md.

Acting as users (CRM actions delegate to ``portal.crm``, EMU-CRM's store), placing robots,
app lifecycle, webhooks, reading everything the portal did, faults, clock, config, reset.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from b24emu import apps, events, frame_host, oauth, robots
from b24emu import auth as authmod
from b24emu.core_state import Binding, CoreState
from b24emu.state import Portal


def _key() -> web.AppKey[Portal]:
    from b24emu.server import PORTAL_KEY

    return PORTAL_KEY


Handler = Callable[[web.Request], Awaitable[Any]]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _portal(request: web.Request) -> Portal:
    return request.app[_key()]


async def _body(request: web.Request) -> dict[str, Any]:
    data: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        try:
            parsed = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="body must be JSON") from None
        if isinstance(parsed, dict):
            data.update(parsed)
    return data


def endpoint(fn: Callable[[Portal, dict[str, Any], web.Request], Any]) -> Handler:
    """Wrap ``fn(portal, body, request)``: JSON result; KeyError → 404, ValueError/CRM → 400."""

    async def handler(request: web.Request) -> web.Response:
        portal = _portal(request)
        try:
            result = fn(portal, await _body(request), request)
            if hasattr(result, "__await__"):
                result = await result
        except KeyError as exc:
            return web.json_response(
                {"error": "not_found", "detail": str(exc)}, status=404, dumps=_dumps
            )
        except (ValueError, TypeError) as exc:
            return web.json_response(
                {"error": "bad_request", "detail": str(exc)}, status=400, dumps=_dumps
            )
        except Exception as exc:
            code = getattr(exc, "code", None)
            if code is None:
                raise
            return web.json_response({"error": code, "detail": str(exc)}, status=400, dumps=_dumps)
        return web.json_response(result, dumps=_dumps)

    return handler


def _crm(portal: Portal) -> Any:
    if portal.crm is None:
        raise ValueError("CRM store is not available in this build")
    return portal.crm


def _int(body: dict[str, Any], key: str, default: Any = None) -> Any:
    value = body.get(key, default)
    return None if value in (None, "") else int(value)


# --- portal-wide -----------------------------------------------------------------------------


def info(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    return {
        "domain": portal.domain,
        "member_id": portal.member_id,
        "rest_url": portal.client_endpoint,
        "oauth_token_url": f"{portal.base_url}/oauth/token/",
        "admin_url": f"{portal.base_url}/_emu/",
        "config": portal.core.config.as_dict(),
        "users": list(portal.users.values()),
        "departments": list(portal.departments.values()),
    }


def set_config(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    portal.core.config.update(**body)
    return portal.core.config.as_dict()


def rename_portal(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    """The portal's address changes (an admin renamed it, e.g. ``old.bitrix24.ru`` →
    ``new.bitrix24.ru``): from now on events, robot calls, frames and token answers name the
    new ``domain`` / ``client_endpoint``; the member_id, apps and tokens stay. ``domain`` is
    ``host[:port]`` and must still reach this server for REST calls to work."""
    import re

    domain = str(body.get("domain") or "").strip().lower()
    if not re.fullmatch(r"[a-z0-9.-]{1,253}(:\d{1,5})?", domain):
        raise ValueError("domain must be host[:port]")
    previous, portal.domain = portal.domain, domain
    return {
        "previous": previous,
        "domain": portal.domain,
        "client_endpoint": portal.client_endpoint,
    }


def reset(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    """Forget everything except the config (and webhooks when ``keep_webhooks``)."""
    from b24emu.faults import Faults
    from b24emu.portal_factory import DEFAULT_DEPARTMENTS, default_users

    old = portal.core
    portal.core = CoreState(config=old.config)
    if body.get("keep_webhooks"):
        portal.core.webhooks = old.webhooks
    portal.users = default_users()
    portal.departments = {k: dict(v) for k, v in DEFAULT_DEPARTMENTS.items()}
    portal.clock.offset = 0.0
    runtime = portal.runtime
    runtime.bucket.reset()
    runtime.budget.reset()
    runtime.faults = Faults(portal.core.faults)
    if portal.crm is not None:
        portal.crm = type(portal.crm)(portal)
    return {"ok": True}


def clock(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    """``{"offset": s}`` sets, ``{"advance": s}`` adds; robot timeouts are checked at once."""
    if "offset" in body:
        portal.clock.offset = float(body["offset"])
    if "advance" in body:
        portal.clock.offset += float(body["advance"])
    robots.expire_runs(portal)
    return {"offset": portal.clock.offset, "now": portal.clock.now()}


def faults(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    if request.method == "POST":
        return portal.runtime.faults.configure(**body)
    return portal.core.faults


def create_webhook(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    hook = authmod.create_webhook(
        portal, int(body.get("user_id") or 1), body.get("scopes"), body.get("code")
    )
    if body.get("expires_in"):
        hook.expires_at = portal.clock.now() + float(body["expires_in"])
    return {
        "code": hook.code,
        "user_id": hook.user_id,
        "scopes": hook.scopes,
        "url": f"{portal.client_endpoint}{hook.user_id}/{hook.code}/",
    }


def outgoing_webhook(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    """Outgoing webhook: ``{"handler": url, "events": [...]}`` → its application_token."""
    token = events.md5(f"{portal.member_id}|outgoing|{portal.core.next_id()}")
    ids = []
    for name in body.get("events") or []:
        binding = Binding(
            id=portal.core.next_id(),
            client_id=None,
            event=str(name).upper(),
            handler=str(body["handler"]),
            application_token=token,
        )
        portal.core.bindings.append(binding)
        ids.append(binding.id)
    return {"application_token": token, "binding_ids": ids}


def requests_log(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    core = portal.core
    limit = int(body.get("limit", 200))
    return {
        "http": dict(core.http_counts),
        "calls": dict(core.call_counts),
        "total_http": sum(core.http_counts.values()),
        "total_calls": sum(core.call_counts.values()),
        "log": core.request_log[-limit:] if limit else [],
    }


def reset_requests(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    portal.core.http_counts.clear()
    portal.core.call_counts.clear()
    portal.core.request_log.clear()
    return {"ok": True}


# --- apps ----------------------------------------------------------------------------------


def _app(portal: Portal, request: web.Request) -> Any:
    return portal.core.apps[request.match_info["client_id"]]


def register_app(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    app = apps.register_app(portal, **body)
    data = apps.app_dict(app)
    data["token_url"] = f"{portal.base_url}/oauth/token/"
    return data


def list_apps(portal: Portal, body: dict[str, Any], request: web.Request) -> list[dict[str, Any]]:
    return [apps.app_dict(a) for a in portal.core.apps.values()]


async def install_app(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    return await apps.install(
        portal, request.match_info["client_id"], int(body.get("user_id") or 1)
    )


def finish_install(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    app = _app(portal, request)
    apps.finish_install(portal, app)
    return apps.app_dict(app)


def update_app(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    return apps.update(portal, request.match_info["client_id"], _int(body, "version"))


def uninstall_app(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    clean = body.get("clean", True) not in (False, 0, "0", "N", "false")
    return apps.uninstall(portal, request.match_info["client_id"], clean)


async def open_app(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    """Open the app page or a placement as ``user_id``: frame POST, answer returned."""
    app = _app(portal, request)
    placement = str(body.get("placement") or "DEFAULT").upper()
    url = body.get("url") or app.handler_url
    if placement != "DEFAULT" and not app.installed:
        raise ValueError("widgets are hidden until the installation is finished")
    if placement != "DEFAULT" and not body.get("url"):
        bound = [
            p
            for p in portal.core.placements
            if p.client_id == app.client_id and p.placement == placement
        ]
        if not bound:
            raise KeyError(f"placement {placement} not bound")
        url = bound[0].handler
    if not url:
        raise ValueError("app has no handler URL")
    with_token = body.get("application_token", True) not in (False, 0, "0", "N", "false")
    return await apps.open_frame(
        portal,
        app,
        url,
        int(body.get("user_id") or 1),
        placement,
        body.get("options"),
        with_application_token=with_token,
    )


def app_tokens(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    app = _app(portal, request)
    if not app.present:
        raise ValueError("app is not installed")
    token = oauth.issue_tokens(portal, app.client_id, int(body.get("user_id") or 1), app.scopes)
    return oauth.token_response(portal, token)


def auth_code(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    app = _app(portal, request)
    return {"code": oauth.create_auth_code(portal, app.client_id, int(body.get("user_id") or 1))}


# --- robots and events ---------------------------------------------------------------------


def place_robot(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    placement = robots.place(
        portal,
        entity_type_id=int(body["entity_type_id"]),
        stage_id=str(body["stage_id"]),
        code=str(body["code"]),
        category_id=_int(body, "category_id"),
        client_id=body.get("client_id"),
        properties=body.get("properties"),
        timeout=int(body.get("timeout") or 0),
    )
    return vars(placement)


def list_robots(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    return {
        "robots": [vars(r) for r in portal.core.robots.values()],
        "placements": [vars(p) for p in portal.core.robot_placements],
    }


def robot_runs(portal: Portal, body: dict[str, Any], request: web.Request) -> list[dict[str, Any]]:
    robots.expire_runs(portal)
    runs = portal.core.robot_runs
    if body.get("code"):
        runs = [r for r in runs if r.code == body["code"]]
    return [robots.run_dict(r) for r in runs]


def stage_entered(
    portal: Portal, body: dict[str, Any], request: web.Request
) -> list[dict[str, Any]]:
    """Fire robots directly, without a CRM record change (for tests of the robot engine)."""
    runs = robots.stage_entered(
        portal,
        int(body["entity_type_id"]),
        int(body["id"]),
        _int(body, "category_id"),
        str(body["stage_id"]),
        _int(body, "user_id"),
    )
    return [robots.run_dict(r) for r in runs]


def deliveries(portal: Portal, body: dict[str, Any], request: web.Request) -> list[dict[str, Any]]:
    rows = portal.core.deliveries
    for key in ("kind", "name", "client_id", "status"):
        if body.get(key):
            rows = [d for d in rows if getattr(d, key) == body[key]]
    return [vars(d) for d in rows]


def reset_deliveries(portal: Portal, body: dict[str, Any], request: web.Request) -> dict[str, Any]:
    portal.core.deliveries.clear()
    return {"ok": True}


def emit(portal: Portal, body: dict[str, Any], request: web.Request) -> list[dict[str, Any]]:
    sent = events.emit(portal, str(body["event"]), body.get("data") or {}, _int(body, "user_id"))
    return [vars(d) for d in sent]


def bindings(portal: Portal, body: dict[str, Any], request: web.Request) -> list[dict[str, Any]]:
    return [vars(b) for b in portal.core.bindings]


def offline(portal: Portal, body: dict[str, Any], request: web.Request) -> list[dict[str, Any]]:
    return [vars(r) for r in portal.core.offline]


def placements(portal: Portal, body: dict[str, Any], request: web.Request) -> list[dict[str, Any]]:
    return [vars(p) for p in portal.core.placements]


# --- CRM as a user (delegates to EMU-CRM's store) -------------------------------------------


def crm_lead(portal: Portal, body: dict[str, Any], request: web.Request) -> Any:
    """A lead arriving from ``source`` = webform | email | call | manual."""
    fields = dict(body.get("fields") or {})
    for key in ("title", "name", "phone", "email"):
        if key in body:
            fields[key] = body[key]
    return _crm(portal).incoming_lead(
        str(body.get("source") or "manual"), user_id=int(body.get("user_id") or 1), **fields
    )


def crm_add(portal: Portal, body: dict[str, Any], request: web.Request) -> Any:
    return _crm(portal).add_item(
        int(body["entity_type_id"]), dict(body.get("fields") or {}), int(body.get("user_id") or 1)
    )


def crm_update(portal: Portal, body: dict[str, Any], request: web.Request) -> Any:
    return _crm(portal).update_item(
        int(body["entity_type_id"]),
        int(body["id"]),
        dict(body.get("fields") or {}),
        int(body.get("user_id") or 1),
    )


def crm_move(portal: Portal, body: dict[str, Any], request: web.Request) -> Any:
    fields: dict[str, Any] = {"stageId": str(body["stage_id"])}
    if body.get("category_id") not in (None, ""):
        fields["categoryId"] = int(body["category_id"])
    return _crm(portal).update_item(
        int(body["entity_type_id"]), int(body["id"]), fields, int(body.get("user_id") or 1)
    )


def crm_responsible(portal: Portal, body: dict[str, Any], request: web.Request) -> Any:
    fields = {"assignedById": int(body["assigned_by_id"])}
    return _crm(portal).update_item(
        int(body["entity_type_id"]), int(body["id"]), fields, int(body.get("user_id") or 1)
    )


def crm_delete(portal: Portal, body: dict[str, Any], request: web.Request) -> Any:
    _crm(portal).delete_item(
        int(body["entity_type_id"]), int(body["id"]), int(body.get("user_id") or 1)
    )
    return {"ok": True}


def crm_activity(portal: Portal, body: dict[str, Any], request: web.Request) -> Any:
    return _crm(portal).add_activity(dict(body.get("fields") or {}), int(body.get("user_id") or 1))


def crm_comment(portal: Portal, body: dict[str, Any], request: web.Request) -> Any:
    return _crm(portal).add_comment(
        int(body["entity_type_id"]),
        int(body["id"]),
        str(body["text"]),
        int(body.get("user_id") or 1),
    )


def crm_items(portal: Portal, body: dict[str, Any], request: web.Request) -> Any:
    return _crm(portal).items(int(body["entity_type_id"]))


def crm_records(kind: str) -> Callable[[Portal, dict[str, Any], web.Request], Any]:
    def read(portal: Portal, body: dict[str, Any], request: web.Request) -> Any:
        store = _crm(portal)
        if kind == "notifications" and body.get("user_id"):
            return store.notifications_for(int(body["user_id"]))
        value = getattr(store, kind, None)
        if value is None:
            raise KeyError(kind)
        return list(value.values()) if isinstance(value, dict) else list(value)

    return read


def seed(portal: Portal, body: dict[str, Any], request: web.Request) -> Any:
    from b24emu.seed import seed_portal

    return seed_portal(portal, **body)


def setup(app: web.Application) -> None:
    routes: list[tuple[str, str, Callable[..., Any]]] = [
        ("GET", "", info),
        ("GET", "info", info),
        ("GET", "config", lambda p, b, r: p.core.config.as_dict()),
        ("POST", "config", set_config),
        ("POST", "reset", reset),
        ("POST", "portal/rename", rename_portal),
        ("POST", "clock", clock),
        ("GET", "faults", faults),
        ("POST", "faults", faults),
        ("POST", "webhooks", create_webhook),
        ("POST", "outgoing_webhooks", outgoing_webhook),
        ("GET", "requests", requests_log),
        ("POST", "requests/reset", reset_requests),
        ("POST", "apps", register_app),
        ("GET", "apps", list_apps),
        ("POST", "apps/{client_id}/install", install_app),
        ("POST", "apps/{client_id}/finish_install", finish_install),
        ("POST", "apps/{client_id}/update", update_app),
        ("POST", "apps/{client_id}/uninstall", uninstall_app),
        ("POST", "apps/{client_id}/open", open_app),
        ("POST", "apps/{client_id}/tokens", app_tokens),
        ("POST", "apps/{client_id}/auth_code", auth_code),
        ("POST", "robots/place", place_robot),
        ("GET", "robots", list_robots),
        ("GET", "robot_runs", robot_runs),
        ("POST", "robots/stage_entered", stage_entered),
        ("GET", "deliveries", deliveries),
        ("POST", "deliveries/reset", reset_deliveries),
        ("POST", "emit", emit),
        ("GET", "bindings", bindings),
        ("GET", "offline", offline),
        ("GET", "placements", placements),
        ("POST", "crm/lead", crm_lead),
        ("POST", "crm/items", crm_add),
        ("POST", "crm/update", crm_update),
        ("POST", "crm/move", crm_move),
        ("POST", "crm/responsible", crm_responsible),
        ("POST", "crm/delete", crm_delete),
        ("POST", "crm/activity", crm_activity),
        ("POST", "crm/comment", crm_comment),
        ("GET", "crm/items", crm_items),
        ("GET", "crm/activities", crm_records("activities")),
        ("GET", "crm/comments", crm_records("comments")),
        ("GET", "crm/tasks", crm_records("tasks")),
        ("GET", "crm/notifications", crm_records("notifications")),
        ("GET", "crm/checklist", crm_records("checklist")),
        ("GET", "crm/messages", crm_records("messages")),
        ("POST", "seed", seed),
    ]
    from b24emu.messaging_admin import ROUTES as messaging_routes

    routes += messaging_routes
    for verb, path, fn in routes:
        app.router.add_route(verb, f"/_emu/{path}", endpoint(fn))
    # HTML and JS for a browser, not JSON (b24emu.frame_host)
    app.router.add_get("/_emu/apps/{client_id}/frame", frame_page)
    app.router.add_get("/_emu/bx24.js", bx24_js)


async def frame_page(request: web.Request) -> web.Response:
    """The portal's page around an app frame: a browser test opens the app here."""
    text = frame_host.host_page(_portal(request), request.match_info["client_id"], request.query)
    return web.Response(text=text, content_type="text/html")


async def bx24_js(request: web.Request) -> web.Response:
    """b24emu's stand-in for the BX24 JS library (frame_host.BX24_JS)."""
    return web.Response(text=frame_host.BX24_JS, content_type="application/javascript")
