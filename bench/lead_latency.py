"""Web-form leads until the automation is visible, and REST requests per lead, on the whole
stack with the cloud limits on.

    .venv/bin/python -m bench.lead_latency                       # all three runs
    .venv/bin/python -m bench.lead_latency --spaced 30 --burst 300 --big-burst 0

The stack as ``make run`` starts it (``bench/_stack.py``: gunicorn, 2 RQ workers, the clock,
a private Redis, SQLite) and a metal portal on the emulator with the cloud limits (50-request
burst, then 2 requests/s). Three runs, each on a fresh deployment:

* ``spaced``: one web-form lead a second; per lead the time from its creation until the
  portal shows the automation (stage «Данные заполнены», head of sales, generated title —
  written in one batch with area and the Object), polled every 10 ms in the emulator;
* ``burst``: ``--burst`` leads created as fast as the emulator takes them;
* ``big-burst``: the same with ``--big-burst`` leads (0 skips it);
* ``lone``: ``--lone`` leads ``--lone-spacing`` (70) seconds apart, so each is alone and gets
  a safety-net minute of its own; the run then waits the clock's grace for announced rows
  (``app.jobs.events.RIDE_GRACE``) and more, so a catch-up the clock would run is counted.

Requests are counted at the emulator, from the first lead until every lead is visible, the
queues are empty and the offline-event queue is drained (the safety nets included: the
offline check rides along in the drain's batches, docs/events.md; rows it could not take
are drained by the clock, so a run waits for the queue to be empty).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.jobs.events import RIDE_GRACE  # noqa: E402
from bench._stack import (  # noqa: E402
    lead,
    offline_rows,
    percentile,
    requests_since_reset,
    running_stack,
    visible,
    wait_quiet,
)

POLL = 0.01


def watch(portal, created: dict[int, float], seen: dict[int, float], stop: threading.Event):
    """Note when each created lead first shows the automation."""
    while not stop.is_set():
        for lead_id, _ in list(created.items()):
            if lead_id not in seen and visible(portal, lead_id):
                seen[lead_id] = time.monotonic()
        time.sleep(POLL)


def run(
    kind: str, leads: int, spacing: float, workdir: Path, offline_wait: float, linger: float = 0.0
) -> dict:
    with running_stack(workdir) as stack:
        portal = stack.portals[0]
        portal.emu.admin.reset_requests()
        created: dict[int, float] = {}
        seen: dict[int, float] = {}
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(portal, created, seen, stop), daemon=True)
        watcher.start()
        start = time.monotonic()
        for n in range(leads):
            t = time.monotonic()
            created[lead(portal, n)] = t
            if spacing:
                time.sleep(max(0.0, start + (n + 1) * spacing - time.monotonic()))
        created_s = time.monotonic() - start
        deadline = time.monotonic() + max(600.0, leads * 3)
        while len(seen) < leads and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        watcher.join()
        all_visible_s = (max(seen.values()) - start) if seen else float("nan")
        wait_quiet(stack, timeout=600)
        # lone leads: give the clock its grace and a tick, so its catch-up would be counted
        time.sleep(max(0.0, max(created.values(), default=0.0) + linger - time.monotonic()))
        visible_requests, _ = requests_since_reset(portal)
        # the offline safety net: announced rows are drained within a minute
        until = time.monotonic() + offline_wait
        while offline_rows(portal) and time.monotonic() < until:
            time.sleep(0.5)
        wait_quiet(stack, timeout=120)
        total, methods = requests_since_reset(portal)
        latencies = [seen[i] - created[i] for i in seen]
        return {
            "run": kind,
            "leads": leads,
            "visible": len(seen),
            "created_in_s": round(created_s, 2),
            "all_visible_s": round(all_visible_s, 2),
            "p50_s": round(statistics.median(latencies), 3) if latencies else None,
            "p99_s": round(percentile(latencies, 0.99), 3) if latencies else None,
            "max_s": round(max(latencies), 3) if latencies else None,
            "requests_until_visible": visible_requests,
            "requests_total": total,
            "requests_per_lead": round(total / leads, 3),
            "offline_rows_left": offline_rows(portal),
            "methods": dict(Counter(methods)),
        }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spaced", type=int, default=30, help="leads at --spacing (0 skips)")
    parser.add_argument("--spacing", type=float, default=1.0)
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--big-burst", type=int, default=1000)
    parser.add_argument("--lone", type=int, default=0, help="leads alone, far apart (0 skips)")
    parser.add_argument("--lone-spacing", type=float, default=70.0)
    parser.add_argument("--offline-wait", type=float, default=90.0, help="s for the safety net")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()}", flush=True)
    runs = [("spaced", args.spaced, args.spacing)]
    runs += [("burst", args.burst, 0.0), ("big-burst", args.big_burst, 0.0)]
    runs += [("lone", args.lone, args.lone_spacing)]
    with tempfile.TemporaryDirectory(prefix="b24latency-") as tmp:
        for kind, leads, spacing in runs:
            if not leads:
                continue
            linger = RIDE_GRACE + 20.0 if kind == "lone" else 0.0
            result = run(kind, leads, spacing, Path(tmp) / kind, args.offline_wait, linger)
            result["load_average"] = [round(x, 2) for x in os.getloadavg()]
            print(result, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
