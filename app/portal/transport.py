"""HTTP underneath the gateway: fast-bitrix24 on our own aiohttp session, from sync code.

How much of fast-bitrix24 we use, and why:

* Every REST request (single methods and ``batch``) goes through
  ``BitrixAsync.call(method, params, raw=True)``: one POST of a JSON body to
  ``{base}{method}``, the whole envelope back. Not ``call(method, dict)``: that wraps a single
  call in a batch (``order0000000000``), unwraps single-key results and stringifies
  ``None``/``True``. Not ``call_batch``: it drops the successful results when any command
  failed. Not ``get_all``: it counts totals and pages by offset (see ``paging.py``).
* We hand it our own ``aiohttp.ClientSession`` (``client=``) whose middleware reads every
  body and raises OUR typed error, code kept, for every non-2xx or non-JSON answer. Its
  default session raises ``ClientResponseError`` with the body (and the Bitrix code) lost.
  Our errors are not aiohttp errors, so fast-bitrix24's retry loop (11 attempts, ~17 s,
  blind to our shared limiter) never sees a 5xx, a timeout or a refused connection: the
  gateway retries them itself, through the Redis limiter.
* ``token_func`` only hands over the token the gateway chose for this request. A 401 never
  reaches fast-bitrix24 (the middleware raises first), so its endless 401 → token_func loop
  cannot start; refreshing is the gateway's job (``refresh.py``, Redis lock).
* Its own leaky bucket and 480 s window are per object; ours is in Redis. We build one
  short-lived ``BitrixAsync`` per request, so its buckets never throttle anything, and we
  keep ``respect_velocity_policy=True`` (``False`` crashes on ``time.operating``).
* ``verbose=False`` (no tqdm bars), and its logger is lowered from DEBUG (its default, which
  would hand every request and response to the root handlers) to WARNING.
* The sync ``Bitrix`` returns an ``asyncio.Task`` inside a running loop; we instead run
  everything on one event-loop thread per process and block on the result, which works from
  plain threads, RQ workers and code that already runs a loop.
* Exception texts never contain the URL (webhook secret) or query (tokens): see ``scrub``.

The OAuth refresh is not a REST call and fast-bitrix24 has no refresh: :meth:`get_json`
uses the same session (same error middleware) directly.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import re
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from fast_bitrix24 import BitrixAsync

from app.portal.errors import PortalError, ServerError, TransportError, error_for

_SECRET_PATTERNS = (
    (re.compile(r"(/rest/\d+/)[^/\s?]+"), r"\1***"),
    (re.compile(r"((?:auth|access_token|refresh_token|client_secret|code)=)[^&\s]+"), r"\1***"),
)


def scrub(text: str) -> str:
    """Remove webhook secrets and token values from a text meant for logs or exceptions."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _method_of(url: Any) -> str:
    path = str(getattr(url, "path", url)).rstrip("/")
    return path.rsplit("/", 1)[-1] or "?"


async def _bitrix_errors(req: aiohttp.ClientRequest, handler: Any) -> aiohttp.ClientResponse:
    """aiohttp middleware: read the whole body here, turn failures into our typed errors."""
    method = _method_of(req.url)
    try:
        resp = await handler(req)
        body = await resp.read()
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise TransportError(
            _kind(exc), scrub(f"{type(exc).__name__}: {exc}"), method=method
        ) from None
    data = _json_or_none(body)
    if resp.status >= 400 or not isinstance(data, dict):
        raise _error_from(resp.status, data, body, method)
    return resp


def _kind(exc: BaseException) -> str:
    """``CONNECT``: the request never left (safe to resend); ``TIMEOUT``/``CONNECTION``: it may
    have reached the portal."""
    if isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        return "CONNECT"
    if isinstance(exc, TimeoutError):
        return "TIMEOUT"
    return "CONNECTION"


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _error_from(status: int, data: Any, body: bytes, method: str) -> PortalError:
    if isinstance(data, dict) and "error" in data:
        description = data.get("error_description") or ""
        return error_for(data["error"], str(description), status=status, method=method)
    snippet = scrub(body[:200].decode("utf-8", "replace").strip())
    if status >= 500:
        return error_for("", f"HTTP {status}: {snippet}", status=status, method=method)
    if status >= 400:
        return error_for(f"HTTP_{status}", snippet, status=status, method=method)
    return TransportError(
        "NOT_JSON",
        f"HTTP {status} body is not a JSON object: {snippet}",
        status=status,
        method=method,
    )


class _LoopThread:
    """One event loop in a daemon thread per process, with its aiohttp sessions."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.sessions: dict[tuple[float, float], aiohttp.ClientSession] = {}
        thread = threading.Thread(target=self.loop.run_forever, name="b24-gateway-io", daemon=True)
        thread.start()
        atexit.register(self.close)

    def close(self) -> None:
        """Close the sessions at interpreter exit (not in a forked child: they are the parent's)."""
        if self.pid != os.getpid() or not self.loop.is_running():
            return

        async def close_all() -> None:
            for session in self.sessions.values():
                await session.close()

        try:
            asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(5)
        except Exception:  # noqa: BLE001 (best effort at exit)
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)

    def run(self, make: Callable[[], Awaitable[Any]], total_timeout: float) -> Any:
        async def guarded() -> Any:
            try:
                return await asyncio.wait_for(make(), total_timeout)
            except TimeoutError:
                raise TransportError("TIMEOUT", f"no answer within {total_timeout:.0f} s") from None

        return asyncio.run_coroutine_threadsafe(guarded(), self.loop).result()

    def session(self, connect: float, read: float) -> aiohttp.ClientSession:
        """Called on the loop thread only."""
        key = (connect, read)
        session = self.sessions.get(key)
        if session is None or session.closed:
            timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
            session = aiohttp.ClientSession(timeout=timeout, middlewares=(_bitrix_errors,))
            self.sessions[key] = session
        return session


_runner: _LoopThread | None = None
_runner_lock = threading.Lock()


def _current_runner() -> _LoopThread:
    """The process's loop thread; a forked child (RQ worker) gets a fresh one."""
    global _runner
    with _runner_lock:
        if _runner is None or _runner.pid != os.getpid():
            _runner = _LoopThread()
            _quiet_library_logger()
        return _runner


def _quiet_library_logger() -> None:
    lib = logging.getLogger("fast_bitrix24")
    if lib.level == logging.DEBUG:  # the library's own default; an explicit config wins
        lib.setLevel(logging.WARNING)


class Transport:
    """Blocking REST and OAuth requests with the given timeouts."""

    def __init__(self, connect_timeout: float = 10.0, read_timeout: float = 55.0) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout

    @property
    def _total(self) -> float:
        return self.connect_timeout + self.read_timeout + 5.0

    def post(self, base_url: str, method: str, params: dict[str, Any], token: str | None) -> dict:
        """POST ``params`` (already normalised) to ``base_url + method``; the envelope back.

        ``token`` is None for webhooks (the secret is in ``base_url``)."""
        runner = _current_runner()

        async def go() -> dict:
            session = runner.session(self.connect_timeout, self.read_timeout)
            token_func = None
            if token is not None:

                async def token_func() -> str:
                    return token

            bitrix = BitrixAsync(
                base_url,
                token_func=token_func,
                verbose=False,
                client=session,
                respect_velocity_policy=True,
                ssl=True,
            )
            try:
                return await bitrix.call(method, params, raw=True)
            except aiohttp.ClientError as exc:  # only reachable if the middleware let it pass
                raise TransportError("CONNECTION", scrub(str(exc)), method=method) from None

        envelope = runner.run(go, self._total)
        if not isinstance(envelope, dict):
            raise ServerError("NOT_JSON", "the portal answered a non-object", method=method)
        return envelope

    def get_json(self, url: str, params: dict[str, str], timeout: float) -> dict:
        """GET ``url?params`` and return the JSON object (errors typed by the middleware)."""
        runner = _current_runner()

        async def go() -> dict:
            session = runner.session(self.connect_timeout, timeout)
            async with session.get(url, params=params) as resp:
                return await resp.json(content_type=None)

        return runner.run(go, timeout + self.connect_timeout)
