"""RQ job ``run_robot``: one robot call, exactly once, always answered (``app.robots.runtime``).

The argument is :meth:`app.robots.call.RobotCall.to_job` (plain values). A per-call Redis
lock keeps two workers from running the same call at once (a replay enqueued after the
first job started); the run row in the store does the rest.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from app.robots.call import RobotCall
from app.robots.runtime import execute
from app.store import inbox, robot_runs
from app.sync.context import portal_context

log = logging.getLogger(__name__)

LOCK_TIMEOUT = 300
LOCK_WAIT = 60


class RobotBusy(TimeoutError):
    """Another worker holds this call for too long; RQ retries later (a TimeoutError is
    retryable for ``app.portal.errors.is_retryable``)."""


def run_robot(call: dict[str, Any]) -> dict[str, Any]:
    """Run the robot call ``call``; returns the outcome (state, error, return values)."""
    from app.handlers.robots import pending_key
    from app.services import current

    services = current()
    parsed = RobotCall.from_job(call)
    digest = robot_runs.token_digest(parsed.event_token)
    lock = services.redis.lock(f"b24:lock:{parsed.member_id}:robot:{digest}", timeout=LOCK_TIMEOUT)
    if not lock.acquire(blocking=True, blocking_timeout=LOCK_WAIT):
        raise RobotBusy(parsed.code)
    try:
        ctx = portal_context(services, parsed.member_id)
        outcome = execute(ctx, parsed, retry_in=_next_retry_in())
    finally:
        try:
            lock.release()
        except Exception:  # expired: the run row still guards against double work
            log.warning("robot lock for %s expired before release", parsed.code)
    inbox.clear_pending(services.redis, pending_key(parsed))
    return asdict(outcome)


def _next_retry_in() -> float | None:
    """Seconds until RQ would run this job again after a failure; None when no retry is left
    (or outside a worker)."""
    from rq import get_current_job

    job = get_current_job()
    if job is None or not job.retries_left:
        return None
    return float(job.get_retry_interval())
