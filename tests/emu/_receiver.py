"""A tiny app-side HTTP receiver for emulator tests: records every POST the portal sends.

``Receiver.url(path)`` gives a handler URL; ``respond(path, status, text)`` scripts the
answer (e.g. installer HTML containing ``installFinish``); ``on(path, fn)`` runs
``fn(request_record)`` (in the receiver thread) before answering, e.g. to call REST back.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from b24emu.params import parse_query
from b24emu.testing import free_port
from tests.shared_docs import SHARED_PAYLOADS

PAYLOADS = SHARED_PAYLOADS


@dataclass
class Received:
    path: str
    query: dict[str, str]
    content_type: str
    body: str
    pairs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def form(self) -> dict[str, Any]:
        return parse_query(self.body)

    @property
    def keys(self) -> list[str]:
        return [k for k, _ in self.pairs]


def documented_keys(name: str) -> list[str]:
    """Keys of a ``payloads/*.decoded.txt`` file, in order."""
    lines = (PAYLOADS / name).read_text(encoding="utf-8").splitlines()
    return [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self._responses: dict[str, tuple[int, str]] = {}
        self._hooks: dict[str, Callable[[Received], Any]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def respond(self, path: str, status: int = 200, text: str = "ok") -> None:
        self._responses["/" + path.lstrip("/")] = (status, text)

    def on(self, path: str, fn: Callable[[Received], Any]) -> None:
        self._hooks["/" + path.lstrip("/")] = fn

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == "/" + path.lstrip("/")]

    def wait_for(self, path: str, count: int = 1, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.at(path)
            if len(got) >= count:
                return got
            time.sleep(0.01)
        raise AssertionError(f"expected {count} POSTs to {path}, got {len(self.at(path))}")

    async def _handle(self, request: web.Request) -> web.Response:
        raw = (await request.read()).decode("utf-8")
        record = Received(
            request.path,
            dict(request.query),
            request.content_type,
            raw,
            parse_qsl(raw, keep_blank_values=True),
        )
        self.received.append(record)
        hook = self._hooks.get(request.path)
        if hook is not None:
            await asyncio.get_running_loop().run_in_executor(None, hook, record)
        status, text = self._responses.get(request.path, (200, "ok"))
        return web.Response(status=status, text=text, content_type="text/html")

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def __enter__(self) -> Receiver:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
