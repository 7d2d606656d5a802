"""Eight worker processes hit an expired OAuth token at the same instant.

    .venv/bin/python -m bench.refresh_race [--workers 8] [--calls 5]

Run 1, the gateway: every worker loads the stored (expired) token, waits for a common start
instant, then calls ``profile``. Expected: exactly one request to the OAuth server, zero
``invalid_grant``, every call succeeds (the others find the new token under the lock).

Run 2, the naive way: one fast-bitrix24 ``Bitrix`` per worker whose ``token_func`` refreshes
with the stored refresh token whenever it is asked (no lock, no re-read). Refresh tokens are
single-use, so all but one worker get ``invalid_grant`` and the installation is lost.

Uses Redis ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/4``; that DB is flushed).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import redis

from app.portal import RedisTokenStore, client_from_parts
from app.portal.errors import PortalError
from app.portal.tokens import Credentials

CLIENT_ID = "local.bench.race"
CLIENT_SECRET = "bench-secret-race"
MEMBER = "bench-race"


def gateway_worker(redis_url: str, calls: int, start_at: float) -> dict[str, Any]:
    conn = redis.Redis.from_url(redis_url)
    client = client_from_parts(
        RedisTokenStore(conn), MEMBER, conn, None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    client._credentials()  # hold the expired token, like a worker that started earlier
    time.sleep(max(0.0, start_at - time.time()))
    outcome: Counter = Counter()
    for _ in range(calls):
        try:
            client.call("profile", priority="robots")
            outcome["ok"] += 1
        except PortalError as exc:
            outcome[exc.code or type(exc).__name__] += 1
    return {"outcome": dict(outcome), "refreshes": client.stats["refreshes"]}


def naive_worker(redis_url: str, calls: int, start_at: float) -> dict[str, Any]:
    import requests
    from fast_bitrix24 import Bitrix

    creds = RedisTokenStore(redis.Redis.from_url(redis_url)).load(MEMBER)
    state = {"token": creds.access_token, "asked": 0, "refreshes": 0, "invalid_grant": 0}
    token_url = creds.server_endpoint.replace("/rest/", "/oauth/token/")

    async def token_func() -> str:
        state["asked"] += 1
        if state["asked"] == 1:
            return state["token"]
        if state["refreshes"] + state["invalid_grant"] >= 1:
            raise RuntimeError("refresh already failed once")  # stop fast-bitrix24's 401 loop
        body = requests.get(
            token_url,
            params={
                "grant_type": "refresh_token",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "refresh_token": creds.refresh_token,
            },
            timeout=10,
        ).json()
        if "access_token" not in body:
            state["invalid_grant"] += body.get("error") == "invalid_grant"
            raise RuntimeError(body.get("error"))
        state["refreshes"] += 1
        state["token"] = body["access_token"]
        return state["token"]

    bx = Bitrix(creds.client_endpoint, token_func=token_func, verbose=False)
    time.sleep(max(0.0, start_at - time.time()))
    outcome: Counter = Counter()
    for done in range(calls):
        try:
            bx.call("profile", raw=True)
            outcome["ok"] += 1
        except Exception as exc:  # noqa: BLE001 (we count whatever the library raises)
            # A token_func that raised leaves the object's token event cleared: its next
            # 401 would wait on it forever. Count the remaining calls as failed and stop.
            outcome[type(exc).__name__] += calls - done
            break
    return {
        "outcome": dict(outcome),
        "refreshes": state["refreshes"],
        "invalid_grant": state["invalid_grant"],
    }


def install(emu, conn) -> None:
    """A fresh app install on the emulator, its tokens stored, then the portal clock moved
    past the access token's hour."""
    emu.register_app(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    emu.admin.post(f"apps/{CLIENT_ID}/install", {"user_id": 1})
    tokens = emu.admin.post(f"apps/{CLIENT_ID}/tokens", {"user_id": 1})
    RedisTokenStore(conn).put(
        Credentials(
            MEMBER,
            emu.domain,
            tokens["client_endpoint"],
            tokens["server_endpoint"],
            "oauth",
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            expires_at=datetime.fromtimestamp(tokens["expires"], UTC),
        )
    )
    emu.admin.post("clock", {"advance": 3700})


def main() -> None:
    from b24emu.testing import running_emulator

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--calls", type=int, default=5)
    opts = parser.parse_args()
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
    conn = redis.Redis.from_url(redis_url)
    rows = []
    ctx = multiprocessing.get_context("spawn")
    for label, target in (
        ("gateway (Redis lock)", gateway_worker),
        ("naive token_func", naive_worker),
    ):
        conn.flushdb()
        with running_emulator() as emu:
            install(emu, conn)
            start_at = time.time() + 8  # spawned workers import and load first
            with ctx.Pool(opts.workers) as pool:
                results = pool.starmap(target, [(redis_url, opts.calls, start_at)] * opts.workers)
            oauth_requests = emu.admin.get("requests")["http"].get("oauth/token", 0)
        outcome: Counter = Counter()
        for r in results:
            outcome.update(r["outcome"])
        invalid = sum(r.get("invalid_grant", 0) for r in results) + outcome.get("invalid_grant", 0)
        failed = sum(v for k, v in outcome.items() if k != "ok")
        rows.append((label, oauth_requests, invalid, outcome.get("ok", 0), failed))
        print(f"{label}: done", flush=True)
    print(f"\n{opts.workers} processes x {opts.calls} calls, all starting on one expired token\n")
    print(f"{'client':24} {'refreshes':>10} {'invalid_grant':>14} {'ok calls':>9} {'failed':>7}")
    for label, refreshes, invalid, ok, failed in rows:
        print(f"{label:24} {refreshes:10d} {invalid:14d} {ok:9d} {failed:7d}")


if __name__ == "__main__":
    main()
