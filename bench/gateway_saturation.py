"""Saturating one portal from several processes: our gateway vs plain fast-bitrix24.

    .venv/bin/python -m bench.gateway_saturation [--workers 4] [--calls 500] [--burst 50] [--drain 20]

An emulated portal runs with its leaky bucket ON (``--burst``/``--drain``); ``--workers``
processes each make ``--calls`` sequential ``profile`` calls, all starting at the same
instant. Run 1 goes through the gateway (one bucket shared in Redis, sized like the portal);
run 2 through one plain fast-bitrix24 ``Bitrix`` object per worker configured with the same
plan numbers (each object believes it owns the bucket). The plan is scaled from the cloud's
50 burst / 2 per s to 50 / 20 per s so a run takes about 100 s instead of 16 minutes; the
shape is the same.

The theoretical minimum is ``(N - burst) / drain`` seconds for N calls: the first ``burst``
calls go at once, the rest at the drain rate. The claim for the gateway: within 10 % of it,
zero failed calls, zero 503s at the portal.

Uses Redis ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/4``; that DB is flushed).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import threading
import time
from collections import Counter
from typing import Any

import redis

from app.portal import RedisTokenStore, client_from_parts
from app.portal.errors import PortalError
from app.portal.tokens import Credentials

MEMBER = "bench-saturation"


def gateway_worker(
    redis_url: str, calls: int, burst: int, drain: float, start_at: float, deadline: float
) -> dict[str, Any]:
    conn = redis.Redis.from_url(redis_url)
    client = client_from_parts(
        RedisTokenStore(conn), MEMBER, conn, None, rate_burst=burst, rate_drain=drain
    )
    client._credentials()  # load before the start signal, like a warm worker
    late = time.time() > start_at
    time.sleep(max(0.0, start_at - time.time()))
    outcome: Counter = Counter()
    for _ in range(calls):
        try:
            client.call("profile")
            outcome["ok"] += 1
        except PortalError as exc:
            outcome[f"{type(exc).__name__}:{exc.code}"] += 1
    return {"finish": time.time(), "outcome": dict(outcome), "late": late}


def fast_bitrix_worker(
    webhook: str, calls: int, burst: int, drain: float, start_at: float, deadline: float
) -> dict[str, Any]:
    """Plain fast-bitrix24. Runs in a thread given up at ``deadline``: the library's 480 s
    window adds up ``time.operating`` (a running total on a real portal) as if it were each
    call's duration, so after a few hundred calls it sleeps for up to ten minutes."""
    from fast_bitrix24 import Bitrix

    bx = Bitrix(webhook, verbose=False, request_pool_size=burst, requests_per_second=drain)
    late = time.time() > start_at
    outcome: Counter = Counter()
    done: dict[str, float] = {}

    def loop() -> None:
        time.sleep(max(0.0, start_at - time.time()))
        for _ in range(calls):
            try:
                bx.call("profile", raw=True)
                outcome["ok"] += 1
            except Exception as exc:  # noqa: BLE001 (we count whatever the library raises)
                outcome[type(exc).__name__] += 1
        done["finish"] = time.time()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    thread.join(max(0.0, deadline - time.time()))
    unfinished = calls - sum(outcome.values())
    if unfinished:
        outcome["unfinished"] = unfinished
    return {"finish": done.get("finish", time.time()), "outcome": dict(outcome), "late": late}


def run(target, args: list[tuple], start_at: float) -> tuple[float, Counter, bool]:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(len(args)) as pool:
        results = pool.starmap(target, args)
    wall = max(r["finish"] for r in results) - start_at
    total: Counter = Counter()
    for r in results:
        total.update(r["outcome"])
    return wall, total, any(r["late"] for r in results)


def portal_statuses(emu) -> Counter:
    log = emu.admin.get("requests", limit=100000)["log"]
    return Counter(e["status"] for e in log if e["method"] == "profile")


def main() -> None:
    from b24emu.testing import running_emulator

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--drain", type=float, default=20.0)
    parser.add_argument("--skip-plain", action="store_true", help="only the gateway run")
    opts = parser.parse_args()
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
    conn = redis.Redis.from_url(redis_url)
    conn.flushdb()
    n = opts.workers * opts.calls
    minimum = max(0.0, (n - opts.burst) / opts.drain)
    print(
        f"\n{opts.workers} workers x {opts.calls} calls = {n}; portal bucket {opts.burst} burst, "
        f"{opts.drain:g}/s drain; theoretical minimum (N - burst) / drain = {minimum:.1f} s\n",
        flush=True,
    )
    printed = False
    with running_emulator(
        rate_limit=True, rate_burst=opts.burst, rate_drain=opts.drain, operating_limit=False
    ) as emu:
        hook = emu.webhook_url()
        RedisTokenStore(conn).put(
            Credentials(MEMBER, emu.domain, None, None, "webhook", webhook_url=hook)
        )
        plans = [("gateway (shared Redis bucket)", gateway_worker, redis_url)]
        if not opts.skip_plain:
            plans.append((f"fast-bitrix24 Bitrix x{opts.workers}", fast_bitrix_worker, hook))
        for label, target, first in plans:
            time.sleep(opts.burst / opts.drain + 1)  # let the portal's bucket drain fully
            emu.admin.post("requests/reset")
            start_at = time.time() + 8  # spawned workers import first
            deadline = start_at + 2 * minimum + 30
            args = [(first, opts.calls, opts.burst, opts.drain, start_at, deadline)] * opts.workers
            wall, outcome, late = run(target, args, start_at)
            statuses = portal_statuses(emu)
            unfinished = outcome.pop("unfinished", 0)
            failed = sum(v for k, v in outcome.items() if k != "ok")
            row = (label, wall, outcome.get("ok", 0), failed, unfinished, statuses.get(503, 0))
            print_row(row, minimum, late, header=not printed)
            printed = True


def print_row(row: tuple, minimum: float, late: bool, *, header: bool) -> None:
    if header:
        print(
            f"{'client':34} {'wall s':>8} {'vs min':>8} {'ok':>6} {'failed':>7} {'unfin.':>7} {'503s':>6}"
        )
    label, wall, ok, failed, unfinished, n503 = row
    ratio = f"{wall / minimum:.3f}" if minimum else "-"
    note = "  (a worker started late)" if late else ""
    if unfinished:
        note += "  (given up at the deadline: 2 x minimum + 30 s)"
    print(
        f"{label:34} {wall:8.1f} {ratio:>8} {ok:6d} {failed:7d} {unfinished:7d} {n503:6d}{note}",
        flush=True,
    )


if __name__ == "__main__":
    main()
