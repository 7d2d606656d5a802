"""Run every benchmark script in ``bench/`` with quick settings and print their output.

    .venv/bin/python -m bench.run_all                 # all of them, one after another
    .venv/bin/python -m bench.run_all --only timers_clock --only sync_full
    .venv/bin/python -m bench.run_all --full          # each script's own (long) defaults

``make bench`` runs this. The quick settings keep the whole run to roughly ten minutes on two
cores (the numbers are smaller runs of the same measurements; ``bench/README.md`` says what
each script measures and how to run it at full size). Each script runs as its own process
(``python -m bench.<name>``) with a time limit, so one that hangs or fails is reported and
the rest still run; the exit status is non-zero when any failed. Scripts need a Redis server
(``BENCH_REDIS_URL``, each script's own DB number by default; those DBs are flushed).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# script → arguments for a quick run (a script missing here runs with its own defaults)
QUICK: dict[str, list[str]] = {
    "chaos": ["--leads", "20", "--kill-every", "20", "--parallel"],
    "emu_throughput": ["--calls", "2000"],
    "events_inbox": ["--seconds", "5"],
    "gateway_saturation": ["--workers", "4", "--calls", "100"],
    "installer_requests": [],
    "lead_latency": ["--spaced", "10", "--burst", "100", "--big-burst", "0"],
    "metal_requests_per_lead": ["--leads", "5"],
    "objects_dedup": [
        *("--objects", "50000", "--checks", "500"),
        *("--portal-objects", "2000", "--portal-checks", "50"),
    ],
    "refresh_race": [],
    "sync_full": ["--leads", "10000"],
    "timers_clock": ["--pending", "10000", "--due", "100"],
}
TIME_LIMIT_S = 240  # per script; the quick runs take well under a minute or two each
LIMITS = {
    "chaos": 1200,
    "lead_latency": 600,
}  # two whole deployments with idle waits between phases
NOT_BENCHES = {"run_all", "__init__", "_stack"}


def scripts() -> list[str]:
    """The benchmark scripts present in ``bench/`` (sorted)."""
    return sorted(p.stem for p in HERE.glob("*.py") if p.stem not in NOT_BENCHES)


def run_one(name: str, args: list[str], limit: float) -> tuple[str, float]:
    """Run one script, streaming its output; returns (outcome, seconds)."""
    command = [sys.executable, "-m", f"bench.{name}", *args]
    print(f"\n=== {name} {' '.join(args)}".rstrip(), flush=True)
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=ROOT, timeout=limit, check=False)  # noqa: S603
        outcome = "ok" if done.returncode == 0 else f"exit {done.returncode}"
    except subprocess.TimeoutExpired:
        outcome = f"stopped after {limit:.0f} s"
    return outcome, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", default=None, help="run only this script")
    parser.add_argument("--full", action="store_true", help="the scripts' own defaults")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT_S, help="s per script")
    opts = parser.parse_args(argv)
    present = scripts()
    unknown = sorted(set(opts.only or ()) - set(present))
    if unknown:
        parser.error(f"no such bench script: {', '.join(unknown)} (have: {', '.join(present)})")
    names = [n for n in present if opts.only is None or n in opts.only]
    limit = None if opts.full else opts.time_limit
    results = []
    for name in names:
        args = [] if opts.full else QUICK.get(name, [])
        own = None if limit is None else max(limit, LIMITS.get(name, 0))
        results.append((name, *run_one(name, args, own)))
    print("\n=== summary")
    for name, outcome, seconds in results:
        print(f"{name:28s} {outcome:22s} {seconds:7.1f} s")
    return 0 if all(outcome == "ok" for _, outcome, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
