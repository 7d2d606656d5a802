"""Clock tick cost and firing lateness with 100,000 pending timers in the store.

    .venv/bin/python -m bench.timers_clock [--pending 100000] [--due 400] [--database-url URL]

1. Inserts ``--pending`` timers due in the future (days to months ahead), as a busy
   deployment would hold them, into a migrated store (a temp SQLite file by default).
2. Tick cost: times an idle tick (nothing due) and ticks with 10 / 100 / 1,000 due rows
   (enqueueing into a scratch queue), and prints the query plan of the claim query — the
   ``(state, due_at)`` index makes a tick cost what is due, not what is stored.
3. Lateness: ``--due`` timers falling due over the next 20 s; the real clock loop (every
   0.5 s) and an idle ``python -m app.worker --queues timers`` process fire them with a job
   that records when it ran. Lateness = job start - due time; target p99 <= 2 s.

Uses Redis ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/8``, flushed).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent.parent
MEMBER = "bench-timers"
FIRED_KEY = "bench:timers:fired"
JOB = "bench.timers_clock.record_fired"


def record_fired(timer_id: int, token: str) -> None:
    """The bench's timer job: note when it ran (the real job would call the portal)."""
    from rq import get_current_job

    get_current_job().connection.hset(FIRED_KEY, str(timer_id), repr(time.time()))


def _rows(n: int, start: datetime, spread: timedelta, prefix: str):
    for i in range(n):
        yield {
            "member_id": MEMBER,
            "key": f"{prefix}{i}",
            "kind": "bench.timer",
            "entity": "lead",
            "record_id": i + 1,
            "due_at": start + spread * random.random(),
            "payload": {},
            "state": "pending",
            "created_by": "bench",
            "created_at": start,
            "attempts": 0,
        }


def _insert(services, rows) -> None:
    from app.store.timers import Timer

    rows = list(rows)
    with services.session() as s:
        for i in range(0, len(rows), 5000):
            s.execute(insert(Timer), rows[i : i + 5000])
        s.commit()


def _plan(services) -> str:
    with services.session() as s:
        if s.get_bind().dialect.name == "sqlite":
            sql = "EXPLAIN QUERY PLAN SELECT id FROM timers WHERE state='pending' AND due_at <= :n ORDER BY due_at LIMIT 500"
            return " | ".join(str(r[-1]) for r in s.execute(text(sql), {"n": "2000-01-01"}))
        sql = "EXPLAIN SELECT id FROM timers WHERE state='pending' AND due_at <= now() ORDER BY due_at LIMIT 500"
        return " | ".join(r[0] for r in s.execute(text(sql)))


def tick_costs(services) -> None:
    from app.timers.clock import tick
    from app.timers.clocks import ManualClock

    now = datetime.now(UTC)
    clock = ManualClock(now)
    for _ in range(3):
        tick(services, clock, job=JOB)  # warm up
    t0 = time.perf_counter()
    for _ in range(20):
        tick(services, clock, job=JOB)
    print(f"idle tick (0 due):        {(time.perf_counter() - t0) / 20 * 1000:8.2f} ms")
    for n in (10, 100, 1000):
        _insert(services, _rows(n, now - timedelta(minutes=5), timedelta(minutes=1), f"d{n}-"))
        t0 = time.perf_counter()
        report = tick(services, clock, job=JOB)
        took = (time.perf_counter() - t0) * 1000
        print(f"tick with {report.enqueued:5d} due:     {took:8.2f} ms  ({took / n:.3f} ms/timer)")
    services.redis.flushdb()


def lateness(services, env, due: int) -> list[float]:
    from app.timers.clock import run
    from app.timers.clocks import SystemClock

    start = datetime.now(UTC) + timedelta(seconds=3)
    _insert(services, _rows(due, start, timedelta(seconds=20), "late-"))
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "app.worker", "--queues", "timers"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stop = threading.Event()
    clock = threading.Thread(
        target=run,
        args=(services, SystemClock()),
        kwargs={"interval": 0.5, "stop": stop, "job": JOB},
    )
    clock.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and services.redis.hlen(FIRED_KEY) < due:
        time.sleep(0.5)
    stop.set()
    clock.join()
    worker.terminate()
    worker.wait(timeout=20)
    from app.store.timers import Timer

    fired = {int(k): float(v) for k, v in services.redis.hgetall(FIRED_KEY).items()}
    with services.session() as s:
        rows = s.query(Timer.id, Timer.due_at).filter(Timer.key.like("late-%")).all()
    return sorted(fired[i] - d.timestamp() for i, d in rows if i in fired)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=400)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from app.services import Services
    from app.store.migrate import upgrade
    from config.settings import Settings

    tmp = tempfile.mkdtemp(prefix="bench-timers-")
    db_url = args.database_url or f"sqlite:///{tmp}/app.db"
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
    upgrade(db_url)
    services = Services(Settings(database_url=db_url, redis_url=redis_url, var_dir=tmp))
    services.redis.flushdb()
    with services.session() as s:
        s.execute(text("DELETE FROM timers"))
        s.commit()
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    _insert(services, _rows(args.pending, now + timedelta(days=1), timedelta(days=90), "p"))
    print(
        f"{args.pending:,} pending timers stored in {time.perf_counter() - t0:.1f} s ({db_url.split(':')[0]})"
    )
    print(f"claim query plan: {_plan(services)}")
    tick_costs(services)

    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "VAR_DIR": tmp,
        "LOG_LEVEL": "WARNING",
    }
    env["PYTHONPATH"] = str(ROOT)
    late = lateness(services, env, args.due)
    if len(late) < args.due:
        print(f"only {len(late)} of {args.due} timers fired within 60 s")
    if late:
        p50 = statistics.median(late)
        p99 = late[min(len(late) - 1, int(len(late) * 0.99))]
        print(
            f"lateness over {len(late)} timers (clock every 0.5 s, idle worker): "
            f"p50 {p50:.3f} s, p99 {p99:.3f} s, max {late[-1]:.3f} s  (target p99 <= 2 s)"
        )
    services.redis.flushdb()
    services.close()


if __name__ == "__main__":
    main()
