"""The /_emu/ admin and test surface (JSON). Every endpoint is documented in README.md."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from b24emu import auth as authmod
from b24emu.state import Portal


def _portal(request: web.Request) -> Portal:
    return request.app["portal"]


async def _body(request: web.Request) -> dict[str, Any]:
    if request.can_read_body:
        try:
            data = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="body must be JSON") from None
        if isinstance(data, dict):
            return data
    return dict(request.query)


def ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, default=str)


async def info(request: web.Request) -> web.Response:
    portal = _portal(request)
    return ok(
        {
            "domain": portal.domain,
            "member_id": portal.member_id,
            "rest_url": portal.client_endpoint,
            "oauth_token_url": f"{portal.base_url}/oauth/token/",
            "admin_url": f"{portal.base_url}/_emu/",
            "config": portal.core.config.as_dict(),
        }
    )


async def create_webhook(request: web.Request) -> web.Response:
    portal = _portal(request)
    body = await _body(request)
    hook = authmod.create_webhook(
        portal, int(body.get("user_id", 1)), body.get("scopes"), body.get("code")
    )
    return ok(
        {
            "code": hook.code,
            "user_id": hook.user_id,
            "scopes": hook.scopes,
            "url": f"{portal.client_endpoint}{hook.user_id}/{hook.code}/",
        }
    )


async def get_config(request: web.Request) -> web.Response:
    return ok(_portal(request).core.config.as_dict())


async def set_config(request: web.Request) -> web.Response:
    portal = _portal(request)
    try:
        portal.core.config.update(**await _body(request))
    except ValueError as exc:
        return ok({"error": str(exc)}, 400)
    return ok(portal.core.config.as_dict())


async def requests_log(request: web.Request) -> web.Response:
    core = _portal(request).core
    return ok(
        {
            "http": dict(core.http_counts),
            "calls": dict(core.call_counts),
            "total_http": sum(core.http_counts.values()),
            "total_calls": sum(core.call_counts.values()),
            "log": core.request_log[-int(request.query.get("limit", 200)) :],
        }
    )


async def reset_requests(request: web.Request) -> web.Response:
    core = _portal(request).core
    core.http_counts.clear()
    core.call_counts.clear()
    core.request_log.clear()
    return ok({"ok": True})


def setup(app: web.Application) -> None:
    r = app.router
    r.add_get("/_emu/", info)
    r.add_get("/_emu/info", info)
    r.add_post("/_emu/webhooks", create_webhook)
    r.add_get("/_emu/config", get_config)
    r.add_post("/_emu/config", set_config)
    r.add_get("/_emu/requests", requests_log)
    r.add_post("/_emu/requests/reset", reset_requests)
