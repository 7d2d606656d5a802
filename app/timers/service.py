"""Start, cancel and list timers: what rules' StartTimer / CancelTimer actions become.

Every function takes the caller's session and does not commit: ``apply_actions`` stores the
timer in the same transaction as the audit row of the action that started it, so the two
agree after a crash. Starting is keyed by ``(member_id, key)`` (the action's idempotency
key): a replayed rule finds the row and gets its id back, nothing is added.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.store.base import utcnow
from app.store.timers import CANCELLED, OPEN_STATES, PAUSED, PENDING, STATES, Timer

MAX_KEY = 128


def start_timer(
    session: Session,
    member_id: str,
    *,
    kind: str,
    due_at: datetime,
    record: tuple[str, Any],
    payload: Mapping[str, Any] | None = None,
    cancel_on: str | None = None,
    key: str,
    created_by: str = "",
) -> int:
    """Create the timer unless ``(member_id, key)`` exists; returns the timer's id either way.

    Raises ValueError for a naive ``due_at``, a record without an integer id (a ``Ref`` to a
    record created in the same batch cannot be timed), an empty or over-long key, or a payload
    that is not plain JSON."""
    entity, record_id = record
    if not isinstance(record_id, int) or isinstance(record_id, bool):
        raise ValueError(f"timer record id must be an int, got {record_id!r}")
    if due_at.tzinfo is None:
        raise ValueError("timer due_at must be timezone-aware")
    if not key or len(key) > MAX_KEY:
        raise ValueError(f"timer key must be 1..{MAX_KEY} characters")
    plain = _plain(payload or {})
    existing = _by_key(session, member_id, key)
    if existing is not None:
        return existing
    row = Timer(
        member_id=member_id,
        key=key,
        kind=kind,
        entity=entity,
        record_id=record_id,
        due_at=due_at,
        payload=plain,
        cancel_on=cancel_on,
        state=PENDING,
        created_by=created_by[:200],
        created_at=utcnow(),
        attempts=0,
    )
    # A savepoint: a concurrent insert of the same key loses only this row, not the caller's
    # transaction (the unique constraint is the real guard, the lookup above the fast path).
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except Exception as exc:  # IntegrityError on the unique key
        found = _by_key(session, member_id, key)
        if found is None:
            raise exc
        return found
    return row.id


def _by_key(session: Session, member_id: str, key: str) -> int | None:
    return session.scalar(select(Timer.id).where(Timer.member_id == member_id, Timer.key == key))


def _plain(payload: Mapping[str, Any]) -> dict[str, Any]:
    import json

    try:
        return json.loads(json.dumps(dict(payload), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"timer payload must be plain JSON values: {exc}") from exc


def cancel_timers(
    session: Session,
    member_id: str,
    *,
    kind: str | None = None,
    record: tuple[str, Any] | None = None,
    reason: str = "cancelled by rule",
) -> int:
    """Cancel the open timers of ``member_id`` matching ``kind`` and/or ``record``; returns
    how many. An ``enqueued`` timer is cancelled too: its job re-reads the state and stops."""
    stmt = update(Timer).where(Timer.member_id == member_id, Timer.state.in_(OPEN_STATES))
    if kind is not None:
        stmt = stmt.where(Timer.kind == kind)
    if record is not None:
        stmt = stmt.where(Timer.entity == record[0], Timer.record_id == int(record[1]))
    result = session.execute(
        stmt.values(state=CANCELLED, finished_at=utcnow(), outcome=reason),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def cancel_all_for_portal(session: Session, member_id: str) -> int:
    """Cancel every open timer of a portal (called on uninstall); returns how many."""
    return cancel_timers(session, member_id, reason="portal uninstalled")


PAUSED_RETENTION = timedelta(days=30)


def pause_all_for_portal(session: Session, member_id: str, reason: str) -> int:
    """Pause every open timer of a portal (a CONFIRMED uninstall); returns how many.

    State ``paused`` (the clock never claims it), ``outcome`` = ``reason``, ``finished_at`` =
    when it was paused. :func:`resume_paused` brings them back if the app is reinstalled
    within :data:`PAUSED_RETENTION` — an uninstall by mistake loses no follow-up."""
    result = session.execute(
        update(Timer)
        .where(Timer.member_id == member_id, Timer.state.in_(OPEN_STATES))
        .values(
            state=PAUSED,
            finished_at=utcnow(),
            outcome=f"paused: {reason}",
            claimed_by=None,
            lease_until=None,
        ),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


def resume_paused(session: Session, member_id: str, now: datetime | None = None) -> tuple[int, int]:
    """Reinstall: paused timers younger than the retention window go back to ``pending``
    (overdue ones fire at the next tick); older ones are cancelled. → (resumed, expired)."""
    now = now or utcnow()
    base = update(Timer).where(Timer.member_id == member_id, Timer.state == PAUSED)
    resumed = session.execute(
        base.where(Timer.finished_at >= now - PAUSED_RETENTION).values(
            state=PENDING, finished_at=None, outcome=None
        ),
        execution_options={"synchronize_session": False},
    )
    expired = session.execute(
        base.values(state=CANCELLED, finished_at=now, outcome="paused longer than retention"),
        execution_options={"synchronize_session": False},
    )
    return resumed.rowcount or 0, expired.rowcount or 0


def cancel_by_id(session: Session, timer_id: int, reason: str = "cancelled by operator") -> bool:
    """Cancel one open timer; False when it does not exist or is no longer open."""
    result = session.execute(
        update(Timer)
        .where(Timer.id == timer_id, Timer.state.in_(OPEN_STATES))
        .values(state=CANCELLED, finished_at=utcnow(), outcome=reason),
        execution_options={"synchronize_session": False},
    )
    return bool(result.rowcount)


def get(session: Session, timer_id: int) -> Timer | None:
    return session.get(Timer, timer_id)


def list_timers(
    session: Session,
    *,
    member_id: str | None = None,
    state: str | None = None,
    kind: str | None = None,
    record: tuple[str, int] | None = None,
    limit: int = 100,
) -> list[Timer]:
    """Timers by due time (operators' view and tests)."""
    if state is not None and state not in STATES:
        raise ValueError(f"unknown timer state {state!r}; states are {', '.join(STATES)}")
    stmt = select(Timer).order_by(Timer.due_at, Timer.id).limit(limit)
    if member_id is not None:
        stmt = stmt.where(Timer.member_id == member_id)
    if state is not None:
        stmt = stmt.where(Timer.state == state)
    if kind is not None:
        stmt = stmt.where(Timer.kind == kind)
    if record is not None:
        stmt = stmt.where(Timer.entity == record[0], Timer.record_id == int(record[1]))
    return list(session.scalars(stmt))
