"""Run a portal in a background thread for tests: :func:`running_emulator`.

    with running_emulator() as emu:
        hook = emu.webhook_url()                     # ".../rest/1/<code>/"
        requests.post(hook + "profile").json()
        emu.portal                                   # the live Portal (white-box reads)
        emu.admin.place_robot(...)                   # /_emu/ client

Defaults for tests: rate limiter and operating limit OFF unless requested.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests
from aiohttp import web

from b24emu.portal_factory import new_portal
from b24emu.state import Portal

TEST_DEFAULTS: dict[str, Any] = {"rate_limit": False, "operating_limit": False}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AdminClient:
    """Thin requests client of ``/_emu/`` (see README for every endpoint)."""

    def __init__(self, base_url: str) -> None:
        self.base = f"{base_url}/_emu/"
        self.session = requests.Session()

    def get(self, path: str, **params: Any) -> Any:
        resp = self.session.get(self.base + path, params=params, timeout=30)
        return self._check(resp)

    def post(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        resp = self.session.post(self.base + path, json=payload or {}, timeout=60)
        return self._check(resp)

    @staticmethod
    def _check(resp: requests.Response) -> Any:
        if resp.status_code >= 400:
            raise AssertionError(
                f"/_emu/ {resp.request.url} → {resp.status_code}: {resp.text[:500]}"
            )
        return resp.json()

    # Named helpers mirroring the endpoints (README lists them all); get/post reach any of them.
    def config(self, **overrides: Any) -> Any:
        return self.post("config", overrides) if overrides else self.get("config")

    def reset(self, keep_webhooks: bool = False) -> Any:
        return self.post("reset", {"keep_webhooks": keep_webhooks})

    def clock(self, *, offset: float | None = None, advance: float | None = None) -> Any:
        body = {k: v for k, v in (("offset", offset), ("advance", advance)) if v is not None}
        return self.post("clock", body)

    def faults(self, **settings: Any) -> Any:
        return self.post("faults", settings)

    def requests_log(self, limit: int = 200) -> Any:
        return self.get("requests", limit=limit)

    def reset_requests(self) -> Any:
        return self.post("requests/reset")

    def install_app(self, client_id: str, user_id: int = 1) -> Any:
        return self.post(f"apps/{client_id}/install", {"user_id": user_id})

    def update_app(self, client_id: str, version: int | None = None) -> Any:
        return self.post(f"apps/{client_id}/update", {"version": version})

    def uninstall_app(self, client_id: str, clean: bool = True) -> Any:
        return self.post(f"apps/{client_id}/uninstall", {"clean": clean})

    def app_tokens(self, client_id: str, user_id: int = 1) -> Any:
        return self.post(f"apps/{client_id}/tokens", {"user_id": user_id})

    def place_robot(self, **placement: Any) -> Any:
        return self.post("robots/place", placement)

    def robot_runs(self, **filters: Any) -> Any:
        return self.get("robot_runs", **filters)

    def deliveries(self, **filters: Any) -> Any:
        return self.get("deliveries", **filters)

    def emit(self, event: str, data: Any, user_id: int | None = None) -> Any:
        return self.post("emit", {"event": event, "data": data, "user_id": user_id})

    def crm_lead(self, source: str = "manual", **fields: Any) -> Any:
        return self.post("crm/lead", {"source": source, **fields})

    def move_stage(
        self,
        entity_type_id: int,
        item_id: int,
        stage_id: str,
        user_id: int = 1,
        category_id: int | None = None,
    ) -> Any:
        return self.post(
            "crm/move",
            {
                "entity_type_id": entity_type_id,
                "id": item_id,
                "stage_id": stage_id,
                "user_id": user_id,
                "category_id": category_id,
            },
        )

    def seed(self, **counts: Any) -> Any:
        return self.post("seed", counts)


class EmuHandle:
    def __init__(self, portal: Portal, port: int) -> None:
        self.portal = portal
        self.port = port
        self.domain = f"127.0.0.1:{port}"
        self.base_url = f"http://{self.domain}"
        self.rest_url = f"{self.base_url}/rest/"
        self.oauth_token_url = f"{self.base_url}/oauth/token/"
        self.admin = AdminClient(self.base_url)

    def webhook_url(self, user_id: int = 1, scopes: list[str] | None = None) -> str:
        """Create an incoming webhook (all scopes by default) and return its base URL."""
        return self.admin.post("webhooks", {"user_id": user_id, "scopes": scopes})["url"]

    def register_app(self, **spec: Any) -> dict[str, Any]:
        return self.admin.post("apps", spec)

    def configure(self, **overrides: Any) -> dict[str, Any]:
        return self.admin.post("config", overrides)

    def wait_deliveries(self, timeout: float = 5.0) -> None:
        """Block until every queued outbound POST has finished (or ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.portal.runtime.outbox.idle():
                return
            time.sleep(0.01)
        raise TimeoutError("outbound deliveries still running")


class _ServerThread(threading.Thread):
    def __init__(self, portal: Portal, sock: socket.socket) -> None:
        self.port = sock.getsockname()[1]
        super().__init__(name=f"b24emu-{self.port}", daemon=True)
        self.portal = portal
        self.sock = sock
        self.ready = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None
        self._stop_event: asyncio.Event | None = None

    def run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as exc:  # surfaced to the starting thread
            self.error = exc
            self.ready.set()
        finally:
            self.loop.close()

    async def _main(self) -> None:
        from b24emu.server import build_app

        runner = web.AppRunner(build_app(self.portal), access_log=None)
        await runner.setup()
        site = web.SockSite(runner, self.sock)
        await site.start()
        self._stop_event = asyncio.Event()
        self.ready.set()
        await self._stop_event.wait()
        await runner.cleanup()

    def stop(self) -> None:
        if self.loop is not None and self._stop_event is not None:
            self.loop.call_soon_threadsafe(self._stop_event.set)
        self.join(timeout=10)


def start_emulator(**config_overrides: Any) -> tuple[EmuHandle, _ServerThread]:
    # Bind first and keep the socket: no window for another process to take the port.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", int(config_overrides.pop("port", 0))))
    sock.listen(128)
    port = sock.getsockname()[1]
    overrides = {**TEST_DEFAULTS, **config_overrides}
    portal = new_portal(domain=f"127.0.0.1:{port}", **overrides)
    thread = _ServerThread(portal, sock)
    thread.start()
    thread.ready.wait(15)
    if thread.error is not None:
        raise RuntimeError("emulator failed to start") from thread.error
    return EmuHandle(portal, port), thread


@contextlib.contextmanager
def running_emulator(**config_overrides: Any) -> Iterator[EmuHandle]:
    """A portal serving HTTP on a free loopback port for the duration of the block."""
    handle, thread = start_emulator(**config_overrides)
    try:
        yield handle
    finally:
        thread.stop()
