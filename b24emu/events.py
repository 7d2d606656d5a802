"""Outbound events: bindings, the ``auth[...]`` block, async form-encoded delivery, offline queue.

``Portal.emit(name, data, user_id)`` (wired by ``portal_factory``) lands in :func:`emit`: every
online binding of an installed app gets one POST (no retries), every offline binding one
upserted queue row. Deliveries go through :class:`Outbox`, which records the exact body.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import json
import threading
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from b24emu import oauth
from b24emu.core_state import App, Binding, Delivery, OfflineRow
from b24emu.params import flatten
from b24emu.state import Portal

CRM_ENTITIES = (
    "LEAD",
    "DEAL",
    "CONTACT",
    "COMPANY",
    "QUOTE",
    "DYNAMICITEM",
    "ACTIVITY",
    "TYPE",
    "TIMELINECOMMENT",
    "INVOICE",
)
EVENT_SCOPES: dict[str, str] = {
    f"ONCRM{e}{op}": "crm" for e in CRM_ENTITIES for op in ("ADD", "UPDATE", "DELETE")
}
EVENT_SCOPES.update(
    {
        "ONCRMDEALMOVETOCATEGORY": "crm",
        "ONCRMLEADUSERFIELDADD": "crm",
        "ONCRMDEALUSERFIELDADD": "crm",
        "ONTASKADD": "task",
        "ONTASKUPDATE": "task",
        "ONTASKDELETE": "task",
        "ONTASKCOMMENTADD": "task",
        "ONTASKCOMMENTUPDATE": "task",
        "ONTASKCOMMENTDELETE": "task",
        "ONUSERADD": "user",
        "ONAPPINSTALL": "basic",
        "ONAPPUPDATE": "basic",
        "ONAPPUNINSTALL": "basic",
        "ONAPPPAYMENT": "basic",
        "ONAPPMETHODCONFIRM": "basic",
        "ONAPPTEST": "basic",
        "ONOFFLINEEVENT": "basic",
    }
)
# auth_connector of the REST call being executed: its own offline queue does not get the
# events that call causes (loop prevention, §5.5). Set by server.execute_call.
CALL_CONNECTOR: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "call_connector", default=None
)
# Events whose auth carries refresh_token (sendRefreshToken=true on the server).
REFRESH_EVENTS = {"ONAPPINSTALL", "ONAPPUPDATE", "ONAPPTEST", "ONOFFLINEEVENT"}


def event_scope(name: str) -> str | None:
    """Scope an event needs, or None when the portal does not know the event."""
    name = name.upper()
    if name in EVENT_SCOPES:
        return EVENT_SCOPES[name]
    for prefix in ("ONCRMDYNAMICITEMADD_", "ONCRMDYNAMICITEMUPDATE_", "ONCRMDYNAMICITEMDELETE_"):
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            return "crm"
    return None


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def auth_block(
    portal: Portal,
    app: App | None,
    user_id: int | None,
    *,
    refresh: bool,
    application_token: str | None = None,
) -> dict[str, Any]:
    """The ``auth[...]`` of an outbound POST (§5.3). No tokens when ``user_id`` is None."""
    endpoint = oauth.server_endpoint(portal)
    base = {
        "domain": portal.domain,
        "client_endpoint": portal.client_endpoint,
        "server_endpoint": endpoint,
        "member_id": portal.member_id,
        "application_token": application_token or (app.application_token if app else ""),
    }
    if app is None or user_id is None:
        return base
    token = oauth.issue_tokens(portal, app.client_id, user_id, app.scopes)
    block: dict[str, Any] = {
        "access_token": token.access_token,
        "expires": str(int(token.expires_at)),
        "expires_in": str(portal.core.config.access_token_lifetime),
        "scope": ",".join(app.scopes),
        "domain": portal.domain,
        "server_endpoint": endpoint,
        "status": portal.core.config.app_status,
        "client_endpoint": portal.client_endpoint,
        "member_id": portal.member_id,
        "user_id": str(user_id),
    }
    if refresh:
        block["refresh_token"] = token.refresh_token
    block["application_token"] = base["application_token"]
    return block


class Outbox:
    """Fire-and-forget POSTs from the server loop; thread-safe ``post``; exact bodies recorded."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.loop: asyncio.AbstractEventLoop | None = None
        self.session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()  # touched on the loop thread only
        self._pending = 0
        self._lock = threading.Lock()

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        timeout = aiohttp.ClientTimeout(total=self.portal.core.config.delivery_timeout)
        self.session = aiohttp.ClientSession(timeout=timeout)
        for delivery in self.portal.core.deliveries:
            if delivery.status == "pending":
                self._schedule(delivery)

    async def stop(self) -> None:
        """Give running POSTs 2 s, cancel the rest (delayed ones stay "pending" in the log)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.session is not None:
            await self.session.close()

    def record(
        self, kind: str, url: str, name: str, data: dict[str, Any], client_id: str | None
    ) -> Delivery:
        pairs = flatten(data)
        with self._lock:
            delivery = Delivery(
                id=self.portal.core.next_id(),
                kind=kind,
                url=url,
                name=name,
                body=urlencode(pairs, quote_via=quote),
                fields=pairs,
                created_at=self.portal.clock.now(),
                client_id=client_id,
            )
            log = self.portal.core.deliveries
            log.append(delivery)
            limit = self.portal.core.config.delivery_log_limit
            if len(log) > limit:
                del log[: len(log) - limit]
        return delivery

    def post(
        self, kind: str, url: str, name: str, data: dict[str, Any], client_id: str | None = None
    ) -> Delivery:
        """Record and send asynchronously (no retries). Safe from any thread."""
        delivery = self.record(kind, url, name, data, client_id)
        self._schedule(delivery)
        return delivery

    def _schedule(self, delivery: Delivery) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return  # sent once the server starts
        with self._lock:
            self._pending += 1  # counted now, so idle() is right even before the task exists
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._start(delivery)
        else:
            loop.call_soon_threadsafe(self._start, delivery)

    def _start(self, delivery: Delivery) -> None:
        assert self.loop is not None
        task = self.loop.create_task(self.send(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        with self._lock:
            self._pending -= 1

    async def send(self, delivery: Delivery) -> tuple[int | None, str]:
        """POST one delivery now; returns (status, text). Never raises."""
        delay = self.portal.core.config.delivery_delay
        if delay > 0 and delivery.kind in ("event", "robot"):
            await asyncio.sleep(delay)
        if self.portal.runtime.faults.drop_delivery():
            delivery.status = "dropped"
            return None, ""
        assert self.session is not None
        try:
            async with self.session.post(
                delivery.url,
                data=delivery.body.encode("utf-8"),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "User-Agent": "Bitrix24 Webhook Engine",
                },
            ) as resp:
                text = await resp.text(errors="replace")
                delivery.http_status = resp.status
                delivery.response_text = text[:4000]
                delivery.status = "delivered" if 200 <= resp.status < 300 else "failed"
                return resp.status, text
        except Exception as exc:  # no retries: the queue server just logs and drops
            delivery.status = "failed"
            delivery.error = f"{type(exc).__name__}: {exc}"
            return None, ""

    def idle(self) -> bool:
        with self._lock:
            return self._pending == 0


def _app_ready(portal: Portal, app: App | None, name: str) -> bool:
    if app is None:
        return False
    if name == "ONAPPUNINSTALL":
        return True
    # unpaid apps get nothing (the server finds no auth and skips the send)
    return app.present and app.installed and not portal.core.config.payment_required


def _deliver(
    portal: Portal, binding: Binding, name: str, data: Any, user_id: int | None
) -> Delivery | None:
    core = portal.core
    if binding.client_id is None:  # outgoing webhook
        auth = auth_block(
            portal, None, None, refresh=False, application_token=binding.application_token
        )
        client = None
    else:
        app = core.apps.get(binding.client_id)
        if not _app_ready(portal, app, name):
            return None
        token_user = binding.auth_type or user_id
        if token_user is None and name in REFRESH_EVENTS and app is not None:
            token_user = app.installing_user  # app-level notifications carry the installer's tokens
        if name == "ONAPPUNINSTALL":
            token_user = None
        auth = auth_block(portal, app, token_user, refresh=name in REFRESH_EVENTS)
        client = binding.client_id
    payload: dict[str, Any] = {
        "event": name,
        "event_handler_id": str(binding.id),
        "data": data,
        "ts": str(int(portal.clock.now())),
        "auth": auth,
    }
    return portal.runtime.outbox.post("event", binding.handler or "", name, payload, client)


def enqueue_offline(
    portal: Portal, binding: Binding, name: str, data: Any, user_id: int | None
) -> OfflineRow:
    """Upsert a queue row keyed by (MESSAGE_ID, app, connector, unreserved)."""
    core = portal.core
    message_id = md5(f"{name}|{json.dumps(data, sort_keys=True, ensure_ascii=False)}")
    now = portal.clock.now()
    key = (message_id, binding.client_id or "", binding.connector_id)
    existing = core.offline_keys.get(key)
    if (
        existing is not None
        and not existing.gone
        and not existing.error
        and not existing.process_id
    ):
        existing.timestamp = now  # identical event: one row, refreshed
        return existing
    row = OfflineRow(
        id=core.next_id(),
        client_id=binding.client_id or "",
        timestamp=now,
        message_id=message_id,
        event_name=name,
        event_data=data,
        additional={"user_id": str(user_id)} if user_id else None,
        connector_id=binding.connector_id,
    )
    core.offline.append(row)
    core.offline_keys[key] = row
    return row


def drop_offline(portal: Portal, rows: list[OfflineRow]) -> None:
    """Remove ``rows`` from the queue."""
    gone = {id(r) for r in rows}
    for row in rows:
        row.gone = True
    portal.core.offline = [r for r in portal.core.offline if id(r) not in gone]


def _notify_offline(portal: Portal, client_id: str) -> None:
    """ONOFFLINEEVENT to the app's online binding, throttled by options.minTimeout."""
    now = portal.clock.now()
    for binding in portal.core.bindings:
        if (
            binding.client_id == client_id
            and binding.event == "ONOFFLINEEVENT"
            and not binding.offline
        ):
            min_timeout = float((binding.options or {}).get("minTimeout", 1) or 0)
            if now - binding.last_offline_notify >= min_timeout:
                binding.last_offline_notify = now
                _deliver(portal, binding, "ONOFFLINEEVENT", [], None)


def emit(
    portal: Portal, name: str, data: Any, user_id: int | None, *, connector: str | None = None
) -> list[Delivery]:
    """Deliver event ``name`` to every binding (online POST / offline row)."""
    if connector is None:
        connector = CALL_CONNECTOR.get()
    name = name.upper()
    names = {name}
    if name.startswith("ONCRMDYNAMICITEM") and isinstance(data, dict):
        etid = (data.get("FIELDS") or {}).get("ENTITY_TYPE_ID")
        if etid:
            names.add(f"{name}_{etid}")  # per-type variants, e.g. ONCRMDYNAMICITEMADD_1036
    sent: list[Delivery] = []
    touched: set[str] = set()
    for binding in list(portal.core.bindings):
        if binding.event not in names:
            continue
        if binding.offline:
            app = portal.core.apps.get(binding.client_id or "")
            if app is None or not app.present or (connector and binding.connector_id == connector):
                continue
            enqueue_offline(portal, binding, binding.event, data, user_id)
            touched.add(binding.client_id or "")
            continue
        delivery = _deliver(portal, binding, binding.event, data, user_id)
        if delivery is not None:
            sent.append(delivery)
    for client_id in touched:
        _notify_offline(portal, client_id)
    return sent


def emit_app(portal: Portal, app: App, name: str, data: Any, user_id: int | None) -> list[Delivery]:
    """An app-lifecycle event for one app only (ONAPPINSTALL/UPDATE/UNINSTALL/TEST)."""
    sent = []
    for binding in list(portal.core.bindings):
        if binding.client_id == app.client_id and binding.event == name and not binding.offline:
            delivery = _deliver(portal, binding, name, data, user_id)
            if delivery is not None:
                sent.append(delivery)
    return sent
