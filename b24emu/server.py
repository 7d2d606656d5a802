"""HTTP transport of the portal (aiohttp): routing, parameters, auth, limits, envelopes.

``/rest/{method}[.json][/]`` (OAuth ``auth`` parameter) and ``/rest/{uid}/{code}/{method}``
(incoming webhook). Method functions come from ``b24emu.registry``; this module wraps their
results in the success envelope (with ``time``) or their :class:`RestError` in the error
envelope (no ``time``) with the documented HTTP status.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from b24emu import auth as authmod
from b24emu import oauth
from b24emu.events import CALL_CONNECTOR
from b24emu.params import parse_pairs, parse_query
from b24emu.registry import Auth, Call, ListPage, RestError, lookup
from b24emu.state import Portal

log = logging.getLogger("b24emu")
PORTAL_KEY = web.AppKey("portal", Portal)

JSON_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "origin, content-type, accept",
    "X-Content-Type-Options": "nosniff",
}


def _tz(portal: Portal) -> timezone:
    sign = -1 if portal.timezone_offset.startswith("-") else 1
    hours, minutes = portal.timezone_offset.lstrip("+-").split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


_ISO_CACHE: dict[tuple[int, str], str] = {}


def iso(portal: Portal, ts: float) -> str:
    """``date('c')`` in the portal's time zone (memoized per second: it is on the hot path)."""
    key = (int(ts), portal.timezone_offset)
    text = _ISO_CACHE.get(key)
    if text is None:
        if len(_ISO_CACHE) > 1024:
            _ISO_CACHE.clear()
        text = datetime.fromtimestamp(key[0], _tz(portal)).isoformat(timespec="seconds")
        _ISO_CACHE[key] = text
    return text


@dataclass
class Outcome:
    """Result of one executed call (top-level or batch item)."""

    result: Any = None
    error: RestError | None = None
    total: int | None = None
    next: int | None = None
    time: dict[str, Any] | None = None


def execute_call(
    portal: Portal, auth: Auth, method: str, params: dict[str, Any], *, in_batch: bool = False
) -> Outcome:
    """Run one REST method with access checks, operating budget and timing."""
    runtime = portal.runtime
    core = portal.core
    config = core.config
    offset = portal.clock.offset
    start = time.time() + offset
    name = method.lower()
    spec = lookup(name)
    try:
        if spec is None:
            raise RestError("ERROR_METHOD_NOT_FOUND", "Method not found!", status=404)
        if in_batch and not spec.batchable:
            raise RestError(
                "ERROR_BATCH_METHOD_NOT_ALLOWED",
                "Method is not allowed for batch usage",
                status=405,
            )
        authmod.check_method_access(spec, auth, in_batch=in_batch)
        key = (auth.limiter_key, name)
        if name != "batch":
            runtime.budget.check(key, start, config)
        core.call_counts[name] += 1
        t0 = time.perf_counter()
        connector = (
            params.get("auth_connector") if isinstance(params.get("auth_connector"), str) else None
        )
        reset_token = CALL_CONNECTOR.set(connector or None)
        try:
            value = spec.fn(Call(portal, auth, name, params, in_batch))
        finally:
            CALL_CONNECTOR.reset(reset_token)
        processing = time.perf_counter() - t0
    except RestError as err:
        return Outcome(error=err)
    except Exception as exc:  # a bug in a method: surface it loudly but keep serving
        log.exception("method %s crashed", name)
        return Outcome(
            error=RestError(
                "INTERNAL_SERVER_ERROR",
                f"Internal server error: {type(exc).__name__}: {exc}",
                status=500,
            )
        )
    outcome = Outcome()
    counted = 0
    if isinstance(value, ListPage):
        outcome.result, outcome.total, outcome.next = value.result, value.total, value.next
        counted = value.counted_rows
    else:
        outcome.result = value
    finish = time.time() + offset
    timing: dict[str, Any] = {
        "start": start,
        "finish": finish,
        "duration": finish - start,
        "processing": processing,
        "date_start": iso(portal, start),
        "date_finish": iso(portal, finish),
    }
    if name != "batch":
        from b24emu.limits import call_cost

        cost = call_cost(spec.cost, processing, counted, config)
        used = runtime.budget.add((auth.limiter_key, name), finish, cost)
        if config.operating_limit:
            timing["operating_reset_at"] = runtime.budget.reset_at((auth.limiter_key, name), finish)
        timing["operating"] = round(used, 6)
    else:
        timing["operating"] = 0
    outcome.time = timing
    return outcome


def envelope(outcome: Outcome) -> tuple[int, dict[str, Any]]:
    if outcome.error is not None:
        return outcome.error.status, outcome.error.body()
    body: dict[str, Any] = {"result": outcome.result}
    if outcome.next is not None:
        body["next"] = int(outcome.next)
    if outcome.total is not None:
        body["total"] = int(outcome.total)
    body["time"] = outcome.time
    return 200, body


async def read_params(request: web.Request) -> dict[str, Any]:
    """Merge query + body like ``CRestUtil::getRequestData`` (body keys win)."""
    params = parse_query(request.query_string)
    if request.method in ("POST", "PUT") and request.can_read_body:
        ctype = request.content_type
        if ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            params.update(
                parse_pairs(
                    (k, v if isinstance(v, str) else getattr(v, "filename", ""))
                    for k, v in form.items()
                )
            )
        elif ctype == "application/json":
            raw = await request.read()
            try:
                data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
            except (ValueError, UnicodeDecodeError):
                data = {}  # the portal silently ignores malformed JSON
            if isinstance(data, dict):
                params.update(data)
    return params


def _json(status: int, body: Any, extra: dict[str, str] | None = None) -> web.Response:
    text = json.dumps(body, ensure_ascii=False, default=str)
    headers = dict(JSON_HEADERS)
    if extra:
        headers.update(extra)
    return web.Response(
        text=text, status=status, content_type="application/json", charset="utf-8", headers=headers
    )


def _route(tail: str) -> tuple[str | None, str | None, str]:
    """``"1/code/crm.deal.add.json/"`` → (uid, code, method); suffix handling per §1.1."""
    parts = [p for p in tail.strip("/").split("/") if p]
    if len(parts) == 3:
        uid, code, method = parts
    elif len(parts) == 1:
        uid, code, method = None, None, parts[0]
    else:
        return None, None, ""
    if method.lower().endswith(".json"):
        method = method[: -len(".json")]
    elif method.lower().endswith(".xml"):
        raise RestError("INTERNAL_WRONG_TRANSPORT", "Wrong transport!", status=500)
    return uid, code, method.lower()


def _log_request(portal: Portal, entry: dict[str, Any]) -> None:
    core = portal.core
    core.request_log.append(entry)
    if len(core.request_log) > core.request_log_limit:
        del core.request_log[: len(core.request_log) - core.request_log_limit]


async def _strike(runtime: Any, fault: str) -> None:
    """Raise the injected fault (a timeout first hangs for ``timeout_seconds``)."""
    if fault == "timeout":
        await asyncio.sleep(runtime.faults.timeout_seconds)
        raise RestError("INTERNAL_SERVER_ERROR", "Request timed out", status=504)
    raise runtime.faults.error_for(fault)


async def rest_handler(request: web.Request) -> web.Response:
    portal: Portal = request.app[PORTAL_KEY]
    runtime = portal.runtime
    core = portal.core
    method = "?"
    auth: Auth | None = None
    params: dict[str, Any] = {}
    try:
        uid, code, method = _route(request.match_info.get("tail", ""))
        if not method:
            raise RestError("ERROR_METHOD_NOT_FOUND", "Method not found!", status=404)
        core.http_counts[method] += 1
        if runtime.faults.latency:
            await asyncio.sleep(runtime.faults.latency)
        fault, after = runtime.faults.pick_with_phase(method)
        if fault and not after:
            await _strike(runtime, fault)
        params = await read_params(request)
        token = params.pop("auth", None)
        auth = (
            authmod.webhook_auth(portal, uid, code or "")
            if uid is not None
            else authmod.token_auth(portal, token)
        )
        if core.config.rate_limit:
            runtime.bucket.hit(f"{request.remote}", portal.clock.now(), core.config)
        outcome = execute_call(portal, auth, method, params)
        if fault and after:  # the call ran (its writes stay); its answer is lost
            await _strike(runtime, fault)
    except RestError as err:
        outcome = Outcome(error=err)
    status, body = envelope(outcome)
    _log_request(
        portal,
        {
            "ts": time.time(),
            "method": method,
            "status": status,
            "auth": auth.kind if auth else None,
            "client_id": auth.client_id if auth else None,
            "user_id": auth.user_id if auth else None,
            "batch_size": len(params.get("cmd") or ()) if method == "batch" else None,
            "error": body.get("error") if status != 200 or "error" in body else None,
        },
    )
    extra = {}
    if auth is not None and auth.client_id:
        extra["X-Bitrix-Rest-Application"] = auth.client_id
    if outcome.time:
        extra["X-Bitrix-Rest-Time"] = f"{outcome.time['processing']:.10f}"
    return _json(status, body, extra)


def build_app(portal: Portal) -> web.Application:
    """The aiohttp application serving one portal (REST, OAuth and /_emu/ admin)."""
    from b24emu import admin
    from b24emu.methods import load_all

    load_all()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[PORTAL_KEY] = portal
    app.router.add_route("*", "/oauth/token/", oauth.token_handler)
    app.router.add_route("*", "/oauth/token", oauth.token_handler)
    app.router.add_get("/oauth/authorize/", oauth.authorize_handler)
    app.router.add_route("*", "/rest/{tail:.*}", rest_handler)
    admin.setup(app)
    app.on_startup.append(_on_startup)
    app.on_cleanup.append(_on_cleanup)
    return app


async def _on_startup(app: web.Application) -> None:
    await app[PORTAL_KEY].runtime.start()


async def _on_cleanup(app: web.Application) -> None:
    await app[PORTAL_KEY].runtime.stop()
