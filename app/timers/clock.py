"""The clock process: ``python -m app.timers.clock`` (one per deployment; two are safe).

Each tick: return expired and orphaned claims to ``pending``, then claim the due timers in
chunks and enqueue one ``fire_timer`` job per claim on the ``timers`` queue. The store is
the truth: a timer due while everything was down is simply due at the first tick after the
start and fires once (repeating escalations compute their next step from "now", so missed
repeats collapse). Nothing here sleeps for a timer; the loop only paces ticks.

The clock also drives the event safety nets (:func:`app.jobs.events.enqueue_safety_nets`):
every tick asks for offline catch-up and reconciliation (the function rate-limits itself per
portal), and start-up asks once with ``force=True`` so events missed while the app was down
are drained at once instead of after the first interval. With them it replays the durable
intake (robot calls, lifecycle events and jobs kept in SQL while Redis was down) and resumes
installations stuck ``installing`` (:mod:`app.intake`), and re-queues client messages
(:mod:`app.channels.dispatch`) and survey answers (:mod:`app.nps.requeue`) whose job was lost.

The clock also runs RQ's scheduler (delayed jobs and ``Retry(interval=...)`` retries):
workers run it too (``--with-scheduler``), but only the worker holding RQ's per-queue lock
does, and a worker killed with that lock leaves retries stalled until the lock expires and a
surviving worker's maintenance (every minute) takes it — under repeated worker deaths that
is never. The clock is long-lived, so it takes the lock whenever it is free and keeps it;
RQ's lock keeps a second clock or a worker from scheduling the same jobs twice.

Testing hooks: ``tick(services, clock)`` takes an injectable :class:`Clock`;
``--offset-seconds`` (or ``TIMERS_TIME_OFFSET_S``) runs the process "later" for e2e tests.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from app.timers import claims
from app.timers.clocks import Clock, SystemClock

log = logging.getLogger(__name__)

FIRE_JOB = "app.timers.jobs.fire_timer"
OFFSET_ENV = "TIMERS_TIME_OFFSET_S"


@dataclass
class TickReport:
    released: int = 0
    orphans: int = 0
    enqueued: int = 0
    enqueue_failed: int = 0


def tick(
    services: Any,
    clock: Clock,
    *,
    owner: str = "clock",
    chunk: int = 500,
    lease: timedelta = claims.DEFAULT_LEASE,
    job: str = FIRE_JOB,
) -> TickReport:
    """One pass: release stale claims, claim every due timer, enqueue their jobs."""
    now = clock.now()
    report = TickReport()
    with services.session() as session:
        report.released = claims.release_expired(session, now)
        try:
            report.orphans = claims.release_orphans(session, services.redis, now)
        except Exception as exc:  # Redis down: leases still protect us, keep ticking
            log.warning("orphan check skipped: %s", exc)
        while True:
            claimed = claims.claim_due(session, now, owner=owner, limit=chunk, lease=lease)
            if not claimed:
                break
            sent, failed = _enqueue(services, claimed, job)
            report.enqueued += sent
            if failed:
                claims.release(session, failed)
                report.enqueue_failed += len(failed)
                break  # Redis is unwell; the next tick tries again
            if len(claimed) < chunk:
                break
    return report


def fire_due_inline(
    services: Any, clock: Clock, *, owner: str = "cli", context: Any = None
) -> list[dict]:
    """Claim the due timers and fire them in this process (operators, tests without a
    worker). Returns each job's result; a failing timer stays claimed until its lease ends.
    ``context`` (a PortalContext) is for tests of a single portal."""
    from app.timers.jobs import fire

    now = clock.now()
    with services.session() as session:
        claims.release_expired(session, now)
        claimed = claims.claim_due(session, now, owner=owner, limit=10_000)
    results = []
    for c in claimed:
        try:
            results.append(
                {
                    "timer": c.timer_id,
                    **fire(services, c.timer_id, c.token, clock=clock, context=context),
                }
            )
        except Exception as exc:  # reported, not fatal: the lease brings it back
            results.append({"timer": c.timer_id, "status": "error", "error": str(exc)})
    return results


def _enqueue(services: Any, claimed: list[claims.Claimed], job: str):
    """Enqueue in one pipeline per chunk (``enqueue_many``); returns (sent, failed claims)."""
    from app.queues import default_retry, give_up_unless_retryable

    queue = services.queue("timers")
    data = [
        queue.prepare_data(
            job,
            args=(c.timer_id, c.token),
            job_id=c.job_id,
            retry=default_retry(),
            on_failure=give_up_unless_retryable,
            description=f"fire timer {c.timer_id}",
        )
        for c in claimed
    ]
    try:
        queue.enqueue_many(data)
    except Exception as exc:
        log.error("enqueue of %d timers failed: %s", len(claimed), exc)
        return 0, claimed
    return len(claimed), []


def safety_nets(services: Any, *, force: bool = False) -> list[tuple[str, str]]:
    """Enqueue the event safety nets (offline catch-up, reconciliation) that are due;
    ``force`` ignores their intervals (start-up). A failure is logged, never raised: the
    next tick asks again and nothing is lost meanwhile (the portal keeps offline events)."""
    from app.jobs.events import enqueue_safety_nets

    try:
        sent = enqueue_safety_nets(services, force=force)
    except Exception as exc:
        log.warning("safety nets not enqueued: %s", exc)
        return []
    if sent:
        log.info("safety nets enqueued: %s", sent)
    return sent


def durable_intake(services: Any) -> None:
    """Replay work kept while Redis was down and resume installs stuck ``installing``
    (:mod:`app.intake`); never raises."""
    from app.intake import tick as intake_tick

    intake_tick(services)


def rq_scheduler(services: Any, owner: str):
    """An RQ scheduler for every queue, driven by the clock's ticks (not its own process)."""
    from rq.scheduler import RQScheduler
    from rq.serializers import JSONSerializer

    from app.queues import QUEUES

    return RQScheduler(
        list(QUEUES), connection=services.redis, serializer=JSONSerializer, name=f"clock-{owner}"
    )


def schedule_due_jobs(scheduler) -> None:
    """Take or refresh RQ's scheduler locks and move the due delayed jobs to their queues."""
    try:
        if scheduler.acquire_locks():
            scheduler.enqueue_scheduled_jobs()
    except Exception as exc:  # Redis down: the next tick tries again
        log.warning("delayed jobs not scheduled: %s", type(exc).__name__)


def run(
    services: Any,
    clock: Clock,
    *,
    interval: float = 1.0,
    stop: threading.Event | None = None,
    owner: str | None = None,
    job: str = FIRE_JOB,
    with_safety_nets: bool = True,
) -> None:
    """Tick every ``interval`` seconds until ``stop`` is set (SIGTERM/SIGINT in ``main``);
    ``job`` is the dotted path enqueued per timer (benchmarks swap in a recorder).
    Start-up forces the safety nets once; each tick then enqueues those that are due
    (``with_safety_nets=False`` leaves them out, for timer-only benchmarks)."""
    stop = stop or threading.Event()
    owner = owner or f"{socket.gethostname()}:{os.getpid()}"
    log.info("timer clock started (owner %s, every %.1fs)", owner, interval)
    if with_safety_nets:
        safety_nets(services, force=True)
    scheduler = rq_scheduler(services, owner) if with_safety_nets else None
    while not stop.is_set():
        try:
            report = tick(services, clock, owner=owner, job=job)
            if report.enqueued or report.released or report.orphans:
                log.info("timers tick: %s", report)
        except Exception:  # a database hiccup must not end the clock
            log.exception("timers tick failed")
        if with_safety_nets:
            safety_nets(services)
            durable_intake(services)
            schedule_due_jobs(scheduler)
            _outbox_sweep(services)
            _nps_sweep(services)
        stop.wait(interval)
    if scheduler is not None:
        try:
            scheduler.release_locks()
        except Exception:  # noqa: BLE001 - they expire on their own
            pass


def _outbox_sweep(services: Any) -> None:
    """Client messages whose send job was lost go back on the queue (``app.channels``)."""
    from app.channels.dispatch import sweep

    sweep(services)


def _nps_sweep(services: Any) -> None:
    """Survey answers whose write job was never queued go on the queue (``app.nps``)."""
    from app.nps.requeue import sweep

    sweep(services)


def process_clock(offset_seconds: float | None = None) -> SystemClock:
    """The clock of a process: wall time, shifted only when a test asks for it."""
    if offset_seconds is None:
        offset_seconds = float(os.environ.get(OFFSET_ENV) or 0)
    return SystemClock(timedelta(seconds=offset_seconds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Enqueue due timers (one per deployment).")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between ticks")
    parser.add_argument("--offset-seconds", type=float, default=None, help="testing only")
    args = parser.parse_args(argv)

    from app.services import current

    try:
        from config.logging import configure_logging

        configure_logging(current().settings)
    except Exception:  # logging setup is optional; never block the clock on it
        logging.basicConfig(level=logging.INFO)
    from app.store.migrate import refuse_to_start

    if refuse_to_start(current().engine, "clock"):
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run(current(), process_clock(args.offset_seconds), interval=args.interval, stop=stop)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
