"""Helpers shared by the gateway tests (test_portal_*.py): emulator installs, stores, workers.

Kept in a ``test_portal_*`` module so it lives with the tests it serves; the worker
functions at the bottom run in spawned processes, so they rebuild everything from plain
arguments (URLs, ids, numbers).
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import redis

from app.portal import MemoryTokenStore, RedisTokenStore, client_from_parts
from app.portal.errors import PortalError
from app.portal.tokens import Credentials

CLIENT_SECRET = "test-secret-0123456789"

# Limits that never make a one-process test wait: the emulator's limiter is off by default.
FAST = {"rate_burst": 1000, "rate_drain": 1000.0, "backoff_base": 0.01, "backoff_max": 0.05}


class SleepRecorder:
    """A ``sleep`` that records instead of sleeping (the gateway's waits become visible)."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def webhook_credentials(
    emu: Any, member_id: str = "m-hook", scopes: list | None = None
) -> Credentials:
    return Credentials(
        member_id=member_id,
        domain=emu.domain,
        client_endpoint=None,
        server_endpoint=None,
        auth_mode="webhook",
        webhook_url=emu.webhook_url(scopes=scopes),
    )


def install_oauth_app(emu: Any, client_id: str = "local.gateway.1") -> dict[str, Any]:
    """Register + install an app on the emulator; returns the token response of its admin."""
    emu.register_app(client_id=client_id, client_secret=CLIENT_SECRET)
    emu.admin.post(f"apps/{client_id}/install", {"user_id": 1})
    return emu.admin.post(f"apps/{client_id}/tokens", {"user_id": 1})


def oauth_credentials(tokens: dict[str, Any], member_id: str = "m-oauth") -> Credentials:
    return Credentials(
        member_id=member_id,
        domain=tokens["client_endpoint"].split("://", 1)[1].split("/", 1)[0],
        client_endpoint=tokens["client_endpoint"],
        server_endpoint=tokens["server_endpoint"],
        auth_mode="oauth",
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        expires_at=datetime.fromtimestamp(tokens["expires"], UTC),
    )


def memory_client(creds: Credentials, redis_url: str, sleep=None, **limits: Any):
    store = MemoryTokenStore(creds)
    conn = redis.Redis.from_url(redis_url)
    extra = {"sleep": sleep} if sleep is not None else {}
    client = client_from_parts(store, creds.member_id, conn, None, **extra, **{**FAST, **limits})
    return client, store


def request_log(emu: Any) -> list[dict[str, Any]]:
    return emu.admin.get("requests", limit=20000)["log"]


def run_workers(target, args_list: list[tuple]) -> list[Any]:
    """Run ``target(*args)`` in one spawned process per args tuple; their return values."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(len(args_list)) as pool:
        return pool.starmap(target, args_list)


# -- worker processes (spawned: everything from plain arguments) ----------------------------
def worker_calls(
    redis_url: str,
    member_id: str,
    calls: int,
    method: str,
    params: dict,
    limits: dict,
    client_id: str | None = None,
    barrier: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """``calls`` sequential calls through a gateway client; counts outcomes by class.

    With ``barrier`` (a Redis key and a party count) every worker loads its credentials
    first, then waits until all parties have done so, so all of them start with the same
    (possibly expired) token at once. A barrier, not a wall-clock instant: on a loaded
    machine a late-starting process would otherwise load the already refreshed token."""
    conn = redis.Redis.from_url(redis_url)
    store = RedisTokenStore(conn)
    if client_id:
        limits = {**limits, "client_id": client_id, "client_secret": CLIENT_SECRET}
    client = client_from_parts(store, member_id, conn, None, **limits)
    if barrier is not None:
        key, parties = barrier
        client._credentials()
        conn.incr(key)
        deadline = time.monotonic() + 60
        while int(conn.get(key) or 0) < parties and time.monotonic() < deadline:
            time.sleep(0.01)
    outcome: Counter = Counter()
    for _ in range(calls):
        try:
            client.call(method, params)
            outcome["ok"] += 1
        except PortalError as exc:
            outcome[f"{type(exc).__name__}:{exc.code}"] += 1
    return {"outcome": dict(outcome), "stats": dict(client.stats)}
