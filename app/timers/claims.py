"""Claiming due timers atomically, and giving back claims whose job is gone.

Two clock processes running by mistake must not enqueue a timer twice. A tick claims with
one conditional UPDATE: ``state='pending' → 'enqueued'`` for due rows, stamped with a token
unique to this tick; the rows carrying the token are then this tick's, and nobody else's.
On PostgreSQL the candidate rows are picked ``FOR UPDATE SKIP LOCKED`` so concurrent clocks
split the work instead of waiting; SQLite serialises writers, which gives the same result.

A claim holds a lease. When it expires (the job crashed past its retries, the worker was
SIGKILLed) the row returns to ``pending`` and fires again; its effects are idempotent. When
Redis lost the job (flushed, restarted empty) :func:`release_orphans` notices sooner: the
row is ``enqueued`` but its RQ job hash no longer exists.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from app.store.timers import ENQUEUED, FAILED, PENDING, Timer

DEFAULT_LEASE = timedelta(minutes=30)  # > RQ's retry window (5+30+120 s) + 4 job timeouts
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Claimed:
    timer_id: int
    token: str

    @property
    def job_id(self) -> str:
        return job_id(self.timer_id, self.token)


def job_id(timer_id: int, token: str) -> str:
    """The RQ job id of one claim (unique per claim, so a re-claim is a new job)."""
    return f"timer-{timer_id}-{token}"


def new_token(owner: str) -> str:
    """Unique per tick; only letters, digits, ``_`` and ``-`` (it is part of RQ job ids)."""
    return f"{re.sub(r'[^A-Za-z0-9_-]', '_', owner)[:40]}-{uuid.uuid4().hex[:16]}"


def claim_due(
    session: Session,
    now: datetime,
    *,
    owner: str = "clock",
    limit: int = 500,
    lease: timedelta = DEFAULT_LEASE,
) -> list[Claimed]:
    """Claim up to ``limit`` pending timers due at ``now`` (oldest first) and commit."""
    token = new_token(owner)
    candidates = (
        select(Timer.id)
        .where(Timer.state == PENDING, Timer.due_at <= now)
        .order_by(Timer.due_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Ids first (rows locked until the commit; a concurrent clock skips them), then the
        # UPDATE: "UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE)" may re-run the
        # subquery on PostgreSQL and take more than n rows.
        ids = session.scalars(candidates.with_for_update(skip_locked=True)).all()
        if not ids:
            session.rollback()
            return []
        chosen = Timer.id.in_(ids)
    else:
        # nothing due: no write transaction at all (an idle tick must stay cheap)
        if session.scalar(candidates.limit(1)) is None:
            session.rollback()
            return []
        # SQLite: one statement, so the write lock is taken at once (a read-then-write
        # transaction could meet another clock's and fail with "database is locked").
        chosen = Timer.id.in_(candidates.scalar_subquery())
    session.execute(
        update(Timer)
        .where(chosen, Timer.state == PENDING)  # the guard against a racing clock
        .values(
            state=ENQUEUED,
            claimed_by=token,
            claimed_at=now,
            lease_until=now + lease,
            attempts=Timer.attempts + 1,
        ),
        execution_options={"synchronize_session": False},
    )
    session.commit()
    ids = session.scalars(
        select(Timer.id).where(Timer.claimed_by == token, Timer.state == ENQUEUED)
    ).all()
    return [Claimed(i, token) for i in sorted(ids)]


def release(session: Session, claims: list[Claimed]) -> int:
    """Give claims back at once (their enqueue failed); commits."""
    count = 0
    for c in claims:
        count += _back_to_pending(
            session, and_(Timer.id == c.timer_id, Timer.claimed_by == c.token)
        )
    session.commit()
    return count


def release_expired(session: Session, now: datetime, *, max_attempts: int = MAX_ATTEMPTS) -> int:
    """Expired leases go back to ``pending``; after ``max_attempts`` claims a timer is
    ``failed`` (kept for the operator, never silently dropped). Commits; returns how many
    went back to pending."""
    expired = and_(Timer.state == ENQUEUED, Timer.lease_until < now)
    if session.scalar(select(Timer.id).where(expired).limit(1)) is None:
        session.rollback()
        return 0
    session.execute(
        update(Timer)
        .where(expired, Timer.attempts >= max_attempts)
        .values(
            state=FAILED,
            finished_at=now,
            outcome=f"gave up after {max_attempts} attempts (lease expired each time)",
        ),
        execution_options={"synchronize_session": False},
    )
    count = _back_to_pending(session, expired)
    session.commit()
    return count


def release_orphans(
    session: Session, redis, now: datetime, *, grace: timedelta = timedelta(seconds=30)
) -> int:
    """Claims older than ``grace`` whose RQ job no longer exists in Redis go back to
    ``pending`` at once (Redis was flushed or replaced). Commits; returns how many."""
    rows = session.execute(
        select(Timer.id, Timer.claimed_by)
        .where(Timer.state == ENQUEUED, Timer.claimed_at <= now - grace)
        .order_by(Timer.claimed_at)
        .limit(1000)
    ).all()
    if not rows:
        return 0
    pipe = redis.pipeline(transaction=False)
    for timer_id, token in rows:
        pipe.exists(f"rq:job:{job_id(timer_id, token)}")
    present = pipe.execute()
    count = 0
    for (timer_id, token), exists in zip(rows, present, strict=True):
        if not exists:
            count += _back_to_pending(
                session, and_(Timer.id == timer_id, Timer.claimed_by == token)
            )
    session.commit()
    return count


def _back_to_pending(session: Session, where) -> int:
    result = session.execute(
        update(Timer)
        .where(where, Timer.state == ENQUEUED)
        .values(state=PENDING, claimed_by=None, claimed_at=None, lease_until=None),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0
