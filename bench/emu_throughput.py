"""Throughput of the emulator for simple REST calls with the limiter off.

Starts ``python -m b24emu serve --limits off`` in a subprocess (so client and server do not
share one interpreter), then fires ``profile`` calls over keep-alive connections with a few
concurrent aiohttp clients, and batches of 50 ``server.time`` sub-calls. Prints calls/s.

    .venv/bin/python bench/emu_throughput.py [--calls 5000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(url) as resp:
                    await resp.read()
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    raise RuntimeError("emulator did not start")


async def _hammer(
    url: str, total: int, concurrency: int, payload: dict | None
) -> tuple[float, int]:
    done = 0
    errors = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal done, errors
            while done < total:
                done += 1
                async with session.post(url, json=payload or {}) as resp:
                    body = await resp.json()
                    if resp.status != 200 or "error" in body:
                        errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, errors


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "b24emu",
            "serve",
            "--port",
            str(port),
            "--limits",
            "off",
            "--webhook",
            "1/benchhook",
        ],
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    hook = f"{base}/rest/1/benchhook/"
    try:
        asyncio.run(_wait_up(f"{base}/_emu/info"))
        asyncio.run(_hammer(hook + "profile", 300, args.concurrency, None))  # warm-up
        elapsed, errors = asyncio.run(_hammer(hook + "profile", args.calls, args.concurrency, None))
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine load average (1/5/15 min): {load} on {os.cpu_count()} CPUs")
        print(
            f"simple calls (profile, webhook, JSON): {args.calls} in {elapsed:.2f} s = {args.calls / elapsed:,.0f} calls/s (errors: {errors})"
        )
        batch = {"halt": 0, "cmd": {f"c{i}": "server.time" for i in range(50)}}
        n_batches = max(1, args.calls // 50)
        elapsed, errors = asyncio.run(_hammer(hook + "batch", n_batches, args.concurrency, batch))
        print(
            f"batch of 50 (server.time): {n_batches} batches in {elapsed:.2f} s = {n_batches / elapsed:,.0f} HTTP req/s, {n_batches * 50 / elapsed:,.0f} sub-calls/s (errors: {errors})"
        )
    finally:
        proc.terminate()
        proc.wait(10)
    _seed_speed()
    return 0


def _seed_speed() -> None:
    """100,000 generated records through seed.py (in-process, no HTTP)."""
    from b24emu.portal_factory import new_portal
    from b24emu.seed import seed_portal

    portal = new_portal()
    if portal.crm is None:
        print("seed: CRM store not present")
        return
    start = time.perf_counter()
    made = seed_portal(portal, leads=40000, deals=30000, contacts=20000, objects=10000)
    elapsed = time.perf_counter() - start
    total = sum(v[2] for k, v in made.items() if isinstance(v, list))
    print(f"seed: {total:,} records in {elapsed:.1f} s = {total / elapsed:,.0f} records/s")


if __name__ == "__main__":
    raise SystemExit(main())
