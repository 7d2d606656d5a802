"""No outage loses work: what handlers could not hand to RQ is kept in SQL and replayed.

Handlers call :func:`enqueue_or_keep` (a job) or :func:`keep` (a robot call, a lifecycle
event waiting for confirmation) when Redis is unreachable; the portal still gets its
ordinary answer (robot calls 200, lifecycle events 202), because the work is now as safe
as anything else in the store. The clock process calls :func:`tick` every pass:

* :func:`replay` hands kept rows to RQ, oldest first, deleting each in the same
  transaction that enqueues it (Redis still down → rolled back, tried next tick);
* :func:`resume_stuck_installs` re-enqueues ``install_portal`` for installations left
  ``installing`` longer than :data:`STUCK_AFTER` (their job vanished with Redis, or was
  never enqueued) — at most once per interval per portal; the installer converges, so a
  second run is harmless.

Replaying twice is harmless too: robot runs, lifecycle confirmations and the installer are
idempotent jobs.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import redis as redis_lib

from app.store.base import utcnow
from app.store.intake import IntakeRow

log = logging.getLogger(__name__)

REDIS_DOWN = (redis_lib.exceptions.ConnectionError, redis_lib.exceptions.TimeoutError)
STUCK_AFTER = timedelta(minutes=5)
REPLAY_BATCH = 200


def keep(services: Any, member_id: str, kind: str, payload: dict[str, Any]) -> None:
    """Store one piece of work durably (its own transaction)."""
    with services.session.begin() as session:
        session.add(IntakeRow(member_id=member_id, kind=kind, payload=payload))
    log.warning("Redis unavailable: %s for %s kept in the store for replay", kind, member_id)


def enqueue_or_keep(
    services: Any, member_id: str, queue: str, func: str, *args: Any, **options: Any
) -> bool:
    """``app.queues.enqueue``; when Redis is down the job is kept (False) instead."""
    from app.queues import enqueue

    try:
        enqueue(services, queue, func, *args, **options)
        return True
    except REDIS_DOWN:
        payload = {"queue": queue, "func": func, "args": list(args), "options": options}
        keep(services, member_id, "job", payload)
        return False


def _dispatch(services: Any, row: IntakeRow) -> None:
    from app.queues import enqueue

    payload = dict(row.payload)
    if row.kind == "job":
        enqueue(services, payload["queue"], payload["func"], *payload["args"], **payload["options"])
    elif row.kind == "robot":
        from app.handlers.robots import hand_over
        from app.robots.call import RobotCall

        hand_over(services, RobotCall.from_job(payload), replay=True)
    elif row.kind == "lifecycle":
        from app.handlers.app_events import stash_and_confirm

        stash_and_confirm(services, row.member_id, payload)
    else:
        log.error("intake row %s of unknown kind %r dropped", row.id, row.kind)


def replay(services: Any, limit: int = REPLAY_BATCH) -> int:
    """Hand kept rows to RQ; returns how many went. Stops at the first Redis failure."""
    from sqlalchemy import select

    sent = 0
    with services.session() as session:
        ids = session.scalars(select(IntakeRow.id).order_by(IntakeRow.id).limit(limit)).all()
    for row_id in ids:
        try:
            with services.session.begin() as session:
                row = session.get(IntakeRow, row_id)
                if row is None:
                    continue  # another clock replayed it
                session.delete(row)
                session.flush()
                _dispatch(services, row)  # raises → the delete is rolled back
        except REDIS_DOWN:
            with services.session.begin() as session:
                row = session.get(IntakeRow, row_id)
                if row is not None:
                    row.attempts += 1
                    row.last_error = "Redis unavailable"
            break
        sent += 1
    if sent:
        log.info("replayed %s piece(s) of work kept while Redis was down", sent)
    return sent


def resume_stuck_installs(services: Any, now=None) -> list[str]:
    """Enqueue ``install_portal`` for installations ``installing`` for too long."""
    from sqlalchemy import select

    from app.queues import enqueue
    from app.store.installations import Installation

    now = now or utcnow()
    with services.session() as session:
        stuck = session.scalars(
            select(Installation.member_id).where(
                Installation.status == "installing",
                Installation.updated_at < now - STUCK_AFTER,
            )
        ).all()
    resumed = []
    for member_id in stuck:
        gate = f"b24:install:resume:{member_id}"
        if not services.redis.set(gate, b"1", nx=True, ex=int(STUCK_AFTER.total_seconds())):
            continue
        enqueue(services, "sync", "app.jobs.install.install_portal", member_id)
        resumed.append(member_id)
    if resumed:
        log.info("installations stuck 'installing' resumed: %s", resumed)
    return resumed


def tick(services: Any) -> None:
    """One clock pass over the durable intake; never raises (the clock must keep ticking)."""
    try:
        replay(services)
        resume_stuck_installs(services)
    except REDIS_DOWN:
        pass  # still down: the rows wait in the store
    except Exception:  # noqa: BLE001 - a database hiccup must not end the clock
        log.exception("durable intake tick failed")
