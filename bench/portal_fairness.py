"""One portal's burst must not slow the others: quiet portals' lead latency, idle vs beside
a burst, on the whole stack with the cloud limits on.

    .venv/bin/python -m bench.portal_fairness                  # 10 portals, 1,000-lead burst
    .venv/bin/python -m bench.portal_fairness --portals 20 --burst 2000 --seconds 90

The issue's setting is 100 portals (99 with a steady trickle, one with a 10,000-event
burst). Scaled down by default: every emulated portal is a whole emulator server in this
process plus a real install (about ten requests and a few seconds each on a shared 2-core
machine), and a 10,000-lead burst takes the busy portal's rate limit (2 requests/s) some
ten minutes to route. The claim is about the ratio, which the smaller run measures the same
way: two runs on fresh deployments (``bench/_stack.py``: gunicorn, ``--workers`` RQ
workers, the clock, one emulator per portal with the cloud limits — the busy one in its
own process, so its CPU does not slow the quiet portals' emulators), each ``--seconds``
long, every quiet portal getting a web-form lead every ``--quiet-every`` seconds; in the
second run the busy portal also gets ``--burst`` leads at once, ``--burst-at`` seconds in.
The burst is created and watched from a process of its own (``bench/_burst.py`` says why).
Reported: the quiet portals' p50/p99 time until the automation is visible, per run, and
their ratio (target: p99 beside the burst ≤ 1.5 × idle); the five slowest quiet leads (when
created, seconds into the run); and from RQ's records of the ``drain_changes`` jobs, per
side: time queued and running, hand-backs, what the rounds waited, sent, were estimated to
send and slept in the limiter, and the jobs around the slowest quiet lead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import (  # noqa: E402
    lead,
    lead_body,
    percentile,
    running_stack,
    visible,
    wait_quiet,
)


def run(opts, burst: int, workdir: Path) -> dict:
    with running_stack(workdir, portals=opts.portals, workers=opts.workers, remote=1) as stack:
        busy, quiet = stack.portals[0], stack.portals[1:]
        created: dict[tuple[int, int], float] = {}
        seen: dict[tuple[int, int], float] = {}
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                for key in list(created):
                    if key not in seen and visible(quiet[key[0]], key[1]):
                        seen[key] = time.monotonic()
                time.sleep(0.02)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        burst_done = {}

        def bursting() -> None:
            # created and watched from a process of its own (bench/_burst.py says why)
            job = {
                "base_url": busy.emu.base_url,
                "bodies": [lead_body(busy, 10_000 + n) for n in range(burst)],
                "data_complete": busy.data_complete,
                "timeout": 1800,
            }
            time.sleep(opts.burst_at)
            out = subprocess.run(  # noqa: S603
                [sys.executable, "-m", "bench._burst"], input=json.dumps(job), cwd=ROOT,
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            burst_done.update(json.loads(out.stdout))

        burster = threading.Thread(target=bursting, daemon=True) if burst else None
        if burster:
            burster.start()
        start, wall_start = time.monotonic(), time.time()
        n = 0
        while time.monotonic() - start < opts.seconds:
            for k, portal in enumerate(quiet):
                created[(k, lead(portal, n))] = time.monotonic()
            n += 1
            time.sleep(max(0.0, start + n * opts.quiet_every - time.monotonic()))
        deadline = time.monotonic() + 600
        while len(seen) < len(created) and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        watcher.join()
        if burster:
            burster.join(timeout=1800)
        wait_quiet(stack, timeout=60)
        latencies = [seen[k] - created[k] for k in seen]
        # when the slowest quiet leads were created (seconds into the run): during the
        # burst's arrival, or while its drain ran
        slowest = sorted(seen, key=lambda k: seen[k] - created[k])[-5:]
        worst = created[slowest[-1]] - start if slowest else None
        jobs = drain_report(stack.conn, busy.member_id, wall_start, worst)
        return {
            "burst": burst,
            "quiet_portals": len(quiet),
            "quiet_leads": len(created),
            "visible": len(seen),
            "p50_s": round(statistics.median(latencies), 3) if latencies else None,
            "p99_s": round(percentile(latencies, 0.99), 3) if latencies else None,
            "max_s": round(max(latencies), 3) if latencies else None,
            "burst_created_s": round(burst_done.get("created_s", 0.0), 2),
            "burst_visible_s": round(burst_done.get("visible_s", 0.0), 2),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "drains": jobs,
            "slowest": [
                (round(created[k] - start, 1), round(seen[k] - created[k], 3)) for k in slowest
            ],
        }


def drain_report(conn, busy_member: str, wall_start: float, worst: float | None) -> dict:
    """Where the time went, from RQ's own records of the finished ``drain_changes`` jobs:
    the quiet portals' wait in the queue and time in a worker, and the busy portal's turns
    (how long each held a worker, how many handed the turn back)."""
    from rq.job import Job
    from rq.registry import FinishedJobRegistry
    from rq.serializers import JSONSerializer

    registry = FinishedJobRegistry("events", connection=conn, serializer=JSONSerializer)
    ids = registry.get_job_ids()
    jobs = [
        j
        for j in Job.fetch_many(ids, connection=conn, serializer=JSONSerializer)
        if j is not None and j.func_name == "app.jobs.events.drain_changes"
    ]

    def spread(values: list[float]) -> dict:
        if not values:
            return {"n": 0}
        return {
            "n": len(values),
            "p50": round(statistics.median(values), 3),
            "p99": round(percentile(values, 0.99), 3),
            "max": round(max(values), 3),
            "sum": round(sum(values), 1),
        }

    out: dict = {}
    for who, mine in (
        ("quiet", [j for j in jobs if j.args[0] != busy_member]),
        ("busy", [j for j in jobs if j.args[0] == busy_member]),
    ):
        timed = [j for j in mine if j.started_at and j.ended_at and j.enqueued_at]
        results = [j.return_value() or {} for j in timed]
        out[who] = {
            "queued_s": spread([(j.started_at - j.enqueued_at).total_seconds() for j in timed]),
            "ran_s": spread([(j.ended_at - j.started_at).total_seconds() for j in timed]),
            "handed_back": sum(1 for r in results if r.get("handed_back")),
            "records": sum(int(r.get("records") or 0) for r in results),
            **{
                k: round(sum(float(r.get(k) or 0) for r in results), 2)
                for k in ("waited_s", "requests", "estimated", "limiter_s")
            },
            "under_estimated": sum(
                1 for r in results if r.get("estimated") and r["requests"] > r["estimated"]
            ),
        }
        if worst is not None:
            # the jobs running or queued around the slowest quiet lead's creation
            rows = []
            for j, r in zip(timed, results, strict=True):
                at = j.started_at.replace(tzinfo=UTC).timestamp() - wall_start
                ran = (j.ended_at - j.started_at).total_seconds()
                if worst - 2.0 <= at + ran and at <= worst + 2.0:
                    rows.append(
                        (round(at, 2), round(ran, 3), r.get("records"), r.get("waited_s"),
                         r.get("limiter_s"), r.get("requests"), r.get("handed_back"))
                    )  # fmt: skip
            out[who]["around_worst"] = sorted(rows)[:30]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portals", type=int, default=10, help="1 busy + the rest quiet")
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--burst-at", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--quiet-every", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=2)
    opts = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="b24fair-") as tmp:
        idle = run(opts, 0, Path(tmp) / "idle")
        print("idle:", idle, flush=True)
        loaded = run(opts, opts.burst, Path(tmp) / "burst")
        print("beside the burst:", loaded, flush=True)
    if idle["p99_s"] and loaded["p99_s"]:
        print(f"p99 ratio (beside the burst / idle): {loaded['p99_s'] / idle['p99_s']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
