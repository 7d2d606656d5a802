"""Event management (§5.1) and the offline queue (§5.5); application context only."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from b24emu import events
from b24emu.core_state import Binding, OfflineRow
from b24emu.listing import FilterError, filter_rows, order_rows, page, split_key
from b24emu.methods.app import current_app
from b24emu.registry import Call, ListPage, RestError, method

GENERIC_FILTER_OPS = {"=", ">", "<", ">=", "<=", "@", "%"}


def check_handler(url: Any) -> str:
    """``HandlerHelper::checkCallback``: http(s) and a host with a dot."""
    text = str(url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise RestError("ERROR_UNSUPPORTED_PROTOCOL", "Unsupported event handler protocol")
    if not parts.hostname or "." not in parts.hostname:
        raise RestError("ERROR_WRONG_HANDLER_URL", "Wrong handler URL")
    return text


def _require_admin(call: Call, what: str) -> None:
    if not call.auth.is_admin:
        raise RestError(
            "ACCESS_DENIED",
            f"Access denied! {what} requires administrator access rights",
            status=403,
        )


def _event_name(call: Call) -> str:
    name = str(call.require("event")).strip().upper()
    scope = events.event_scope(name)
    if scope is None or (
        scope != "basic"
        and scope not in call.auth.scopes
        and not (scope == "task" and "tasks" in call.auth.scopes)
    ):
        raise RestError("ERROR_EVENT_NOT_FOUND", "Event not found")
    return name


def _offline_flag(call: Call) -> bool:
    return str(call.param("event_type", "online")).lower() == "offline"


@method("event.bind", scope=None, app_only=True)
def event_bind(call: Call) -> bool:
    app = current_app(call)
    name = _event_name(call)
    offline = _offline_flag(call)
    core = call.portal.core
    connector = str(call.param("auth_connector") or "")
    options = call.param("options") if isinstance(call.param("options"), dict) else {}
    if offline:
        _require_admin(call, "Offline events binding")
        if name == "ONOFFLINEEVENT":
            raise RestError(
                "ERROR_ARGUMENT",
                "Offline event cannot be registered for this event.",
                argument="EVENT_TYPE",
            )
        handler, auth_type = None, 0
    else:
        handler = check_handler(call.param("handler"))
        auth_type = int(call.param("auth_type") or 0)
        if not call.auth.is_admin:
            if auth_type and auth_type != call.auth.user_id:
                raise RestError(
                    "ACCESS_DENIED",
                    "Access denied! Event binding with AUTH_TYPE requires administrator access rights",
                    status=403,
                )
            auth_type = call.auth.user_id
    for b in core.bindings:
        if (b.client_id, b.event, b.handler, b.auth_type, b.offline, b.connector_id) == (
            app.client_id,
            name,
            handler,
            auth_type,
            offline,
            connector,
        ):
            raise RestError("ERROR_HANDLER_ALREADY_EXIST", "Handler already exists!")
    core.bindings.append(
        Binding(
            id=core.next_id(),
            client_id=app.client_id,
            event=name,
            handler=handler,
            auth_type=auth_type,
            offline=offline,
            connector_id=connector,
            options=options,
        )
    )
    return True


@method("event.unbind", scope=None, app_only=True)
def event_unbind(call: Call) -> dict[str, int]:
    app = current_app(call)
    name = str(call.require("event")).strip().upper()
    offline = _offline_flag(call)
    core = call.portal.core
    handler = call.param("handler")
    if offline:
        _require_admin(call, "Offline events binding")
    elif not handler:
        raise RestError("ERROR_ARGUMENT", "Argument 'HANDLER' is null or empty", argument="HANDLER")
    auth_type = call.param("auth_type")

    def matches(b: Binding) -> bool:
        if b.client_id != app.client_id or b.event != name or b.offline != offline:
            return False
        if not offline and b.handler != str(handler).strip():
            return False
        return auth_type in (None, "") or b.auth_type == int(auth_type)

    kept = [b for b in core.bindings if not matches(b)]
    count = len(core.bindings) - len(kept)
    core.bindings = kept
    return {"count": count}


@method("event.get", scope=None, app_only=True)
def event_get(call: Call) -> list[dict[str, Any]]:
    app = current_app(call)
    rows = []
    for b in call.portal.core.bindings:
        if b.client_id != app.client_id:
            continue
        if b.offline:
            rows.append({"event": b.event, "connector_id": b.connector_id, "offline": 1})
        else:
            rows.append(
                {
                    "event": b.event,
                    "handler": b.handler,
                    "auth_type": str(b.auth_type),
                    "offline": 0,
                }
            )
    return rows


@method("events", scope=None)
def events_list(call: Call) -> list[str]:
    wanted = call.param("SCOPE")
    full = bool(call.param("FULL"))
    names = []
    for name, scope in sorted(events.EVENT_SCOPES.items()):
        if wanted:
            if scope != wanted:
                continue
        elif not full and scope != "basic" and scope not in call.auth.scopes:
            continue
        names.append(name)
    return names


@method("event.test", scope=None, app_only=True)
def event_test(call: Call) -> int:
    app = current_app(call)
    events.emit_app(call.portal, app, "ONAPPTEST", {"QUERY": dict(call.params)}, call.auth.user_id)
    return 1


# --- offline queue -------------------------------------------------------------------------


def _row_out(call: Call, row: OfflineRow, *, full: bool) -> dict[str, Any]:
    from b24emu.server import iso

    out: dict[str, Any] = {
        "ID": str(row.id),
        "TIMESTAMP_X": iso(call.portal, row.timestamp),
        "EVENT_NAME": row.event_name,
        "EVENT_DATA": row.event_data if call.portal.core.config.offline_event_data else False,
        "EVENT_ADDITIONAL": row.additional or False,
        "MESSAGE_ID": row.message_id,
    }
    if full:
        out["PROCESS_ID"] = row.process_id
        out["ERROR"] = "1" if row.error else "0"
    return out


def _filterable(call: Call, row: OfflineRow) -> dict[str, Any]:
    from b24emu.server import iso

    return {
        "ID": row.id,
        "TIMESTAMP_X": iso(call.portal, row.timestamp),
        "EVENT_NAME": row.event_name,
        "MESSAGE_ID": row.message_id,
        "PROCESS_ID": row.process_id,
        "ERROR": 1 if row.error else 0,
        "_row": row,
    }


def _select(call: Call, rows: list[OfflineRow], default_order: dict[str, str]) -> list[OfflineRow]:
    flt = call.param("filter") or {}
    if not isinstance(flt, dict):
        flt = {}
    for key in flt:
        op, _ = split_key(str(key))
        if op not in GENERIC_FILTER_OPS or str(key).startswith("=="):
            raise RestError(
                "ERROR_ARGUMENT", f"Filter operation not allowed: {op}", argument="filter"
            )
    upper = {str(k).upper(): v for k, v in flt.items()}
    order = call.param("order") or default_order
    if not isinstance(order, dict):
        order = default_order
    try:
        matched = filter_rows([_filterable(call, r) for r in rows], upper)
    except FilterError as exc:
        raise RestError("ERROR_ARGUMENT", str(exc), argument="filter") from None
    ordered = order_rows(matched, {str(k).upper(): v for k, v in order.items()})
    return [r["_row"] for r in ordered]


def _queue(call: Call) -> list[OfflineRow]:
    app = current_app(call)
    _require_admin(call, "Offline events reading")
    connector = str(call.param("auth_connector") or "")
    return [
        r
        for r in call.portal.core.offline
        if r.client_id == app.client_id and r.connector_id == connector
    ]


@method("event.offline.get", scope=None, app_only=True)
def offline_get(call: Call) -> dict[str, Any]:
    rows = _queue(call)
    clear = str(call.param("clear", 1)).lower() not in ("0", "false", "n", "")
    process_id = call.param("process_id")
    want_error = str(call.param("error", 0)).lower() in ("1", "true", "y")
    try:
        limit = int(call.param("limit", 50) or 50)
    except (TypeError, ValueError):
        limit = 50
    if limit <= 0:
        raise RestError("ERROR_ARGUMENT", "Argument 'limit' must be positive", argument="limit")
    if process_id:
        chosen = [r for r in rows if r.process_id == str(process_id)]
    else:
        candidates = [r for r in rows if not r.process_id and r.error == want_error]
        chosen = _select(call, candidates, {"TIMESTAMP_X": "ASC"})[:limit]
        process_id = secrets.token_hex(16)
        for r in chosen:
            r.process_id = process_id
    result = {"process_id": process_id, "events": [_row_out(call, r, full=False) for r in chosen]}
    if clear:
        events.drop_offline(call.portal, chosen)
    return result


def _ids(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    return [
        str(v)
        for v in (
            value
            if isinstance(value, list)
            else list(value.values())
            if isinstance(value, dict)
            else [value]
        )
    ]


@method("event.offline.clear", scope=None, app_only=True)
def offline_clear(call: Call) -> bool:
    rows = _queue(call)
    process_id = str(call.require("process_id"))
    ids = set(_ids(call.param("id")))
    message_ids = set(_ids(call.param("message_id")))
    if any(len(m) != 32 for m in message_ids):
        raise RestError("ERROR_ARGUMENT", "Wrong message_id value", argument="message_id")
    chosen = [
        r
        for r in rows
        if r.process_id == process_id
        and (not ids or str(r.id) in ids)
        and (not message_ids or r.message_id in message_ids)
    ]
    events.drop_offline(call.portal, chosen)
    return True


@method("event.offline.error", scope=None, app_only=True)
def offline_error(call: Call) -> bool:
    rows = _queue(call)
    process_id = str(call.require("process_id"))
    message_ids = set(_ids(call.require("message_id")))
    for r in rows:
        if r.process_id == process_id and r.message_id in message_ids:
            r.error = True
            r.process_id = ""
    return True


@method("event.offline.list", scope=None, app_only=True)
def offline_list(call: Call) -> ListPage:
    rows = _select(call, _queue(call), {"ID": "ASC"})
    listed = page(rows, call.param("start", 0))
    listed.result = [_row_out(call, r, full=True) for r in listed.result]
    return listed
