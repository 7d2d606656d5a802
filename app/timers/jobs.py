"""The ``fire_timer`` job: re-read, re-check, decide, apply, mark fired.

``fire_timer(timer_id, token)`` acts only while the row is still ``enqueued`` under this
claim's ``token`` (a cancelled timer, or a stale job from an expired claim, does nothing).
It reads the record fresh from the portal and asks the timer's cancel condition whether
acting still makes sense (the lead may have been taken, the client may have written back).
Then the playbook rules listening for the timer's kind (``on_timer(kind)``) decide with the
audiences they need resolved, and the actions go through ``apply_groups`` with the cause
``timer:<id>`` — so a retried or re-claimed timer never repeats an effect. Failures raise:
RQ retries the job, and if the job is lost entirely the claim's lease brings it back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update

from app.rules.apply import ActionGroup, apply_groups, created_records
from app.rules.changes import normalize
from app.rules.engine import decide, needed_related
from app.rules.model import TIMER_FIRED, Change
from app.store.base import utcnow
from app.store.timers import CANCELLED, ENQUEUED, FAILED, FIRED, Timer
from app.sync import dirty
from app.timers import audiences, conditions, handlers
from app.timers.clocks import Clock

log = logging.getLogger(__name__)

LOCK_TIMEOUT = 120
LOCK_WAIT = 30


class TimerActionsFailed(RuntimeError):
    """Some actions of a fired timer failed; the job raises so RQ retries it."""


@dataclass(frozen=True)
class _Row:
    id: int
    member_id: str
    kind: str
    entity: str
    record_id: int
    due_at: datetime
    payload: dict
    cancel_on: str | None
    state: str
    claimed_by: str | None


def fire_timer(timer_id: int, token: str) -> dict[str, Any]:
    """RQ entry point (plain-value arguments; the worker's Services and process clock)."""
    from app.services import current
    from app.timers.clock import process_clock

    return fire(current(), int(timer_id), str(token), clock=process_clock())


def fire(
    services: Any, timer_id: int, token: str, *, clock: Clock, context: Any = None
) -> dict[str, Any]:
    """Fire one claimed timer; ``context`` (a PortalContext) may be given by tests."""
    row = _load(services, timer_id)
    if row is None:
        return {"status": "missing"}
    if row.state != ENQUEUED or row.claimed_by != token:
        return {"status": "stale", "state": row.state}
    if context is None:
        from app.store.installations import InstallationNotFound
        from app.sync.context import portal_context

        try:
            context = portal_context(services, row.member_id)
        except InstallationNotFound:
            _finish(services, row, token, CANCELLED, "portal is not installed")
            return {"status": CANCELLED}
    lock = services.redis.lock(
        f"b24:lock:{row.member_id}:{row.entity}:{row.record_id}", timeout=LOCK_TIMEOUT
    )
    if not lock.acquire(blocking=True, blocking_timeout=LOCK_WAIT):
        raise TimerActionsFailed(f"record {row.entity} {row.record_id} is busy; retry later")
    try:
        return _fire_locked(services, context, row, token, clock.now())
    finally:
        try:
            lock.release()
        except Exception:  # expired: everything we did is idempotent
            log.warning("record lock of timer %s expired before release", row.id)


def _fire_locked(services, ctx, row: _Row, token: str, now: datetime) -> dict[str, Any]:
    from app.sync.fetch import fetch_record
    from app.sync.gather import gather

    fetched = fetch_record(
        ctx.client, ctx.naming, row.entity, row.record_id, needed_related(ctx.table, row.entity)
    )
    record = normalize(row.entity, fetched.record, ctx.naming)
    try:
        reason = conditions.cancel_reason(row.cancel_on, record, row.payload)
    except conditions.UnknownCondition as exc:
        _finish(services, row, token, FAILED, str(exc))
        return {"status": FAILED, "error": str(exc)}
    if reason:
        _finish(services, row, token, CANCELLED, reason)
        return {"status": CANCELLED, "reason": reason}
    reason = _not_ours(ctx, row, record, fetched.related)
    if reason:
        _finish(services, row, token, CANCELLED, reason)
        return {"status": CANCELLED, "reason": reason}

    playbook = row.kind.split(".", 1)[0]
    own_settings = ctx.settings.get(playbook, {})
    roles = handlers.roles_for(row.kind, own_settings)
    audience = audiences.resolve(
        ctx.session_factory, ctx.client, row.member_id, roles, own_settings, record, now
    )
    change = Change(
        row.member_id,
        row.entity,
        row.record_id,
        TIMER_FIRED,
        cause=f"timer:{row.id}",
        before=record,
        after=record,
        detail={"name": row.kind, "timer_id": row.id, "payload": row.payload, "due_at": row.due_at},
    )
    decisions = decide(
        ctx.table,
        [change],
        record=record,
        related={
            **fetched.related,
            # what only the store knows (e.g. the record's open tasks), as for portal events
            **gather(
                ctx.session_factory,
                row.member_id,
                ctx.naming,
                row.entity,
                row.record_id,
                fetched.record,
                fetched.related,
                needed_related(ctx.table, row.entity),
            ),
            "audiences": audience,
        },
        settings=ctx.settings,
        schema=ctx.naming,
        now=now,
    )
    rule_errors = [f"{d.rule.qualified_name()}: {d.error}" for d in decisions if d.error]
    groups = [
        ActionGroup(d.rule.qualified_name(), change.cause, d.actions)
        for d in decisions
        if d.actions and not d.error
    ]
    reports = apply_groups(
        ctx.session_factory,
        ctx.client,
        ctx.naming,
        row.member_id,
        groups,
        record=(row.entity, row.record_id),
    )
    dirty.remember_created(services.redis, row.member_id, created_records(reports, ctx.naming))
    failed = [
        f"{g.rule}: {o.error}" for g, r in zip(groups, reports, strict=True) for o in r.failed
    ]
    if failed:
        raise TimerActionsFailed(f"timer {row.id}: {failed[:3]}")
    done = sum(len(r.done) for r in reports)
    if rule_errors:  # a rule bug is not fixed by retrying; keep it visible on the row
        log.error("timer %s: rule errors %s", row.id, rule_errors)
        _finish(services, row, token, FAILED, "; ".join(rule_errors)[:2000])
        return {"status": FAILED, "errors": rule_errors, "done": done}
    if not decisions:
        _finish(services, row, token, FIRED, "no rule handles this kind")
    else:
        _finish(services, row, token, FIRED, f"{done} action(s) done")
    return {"status": FIRED, "done": done, "rules": [d.rule.qualified_name() for d in decisions]}


def _not_ours(ctx, row: _Row, record, related) -> str | None:
    """Why this timer's playbook may no longer act on its record (None: it may).

    A timer belongs to the playbook its kind names (``kitchens.sos``): when that playbook
    was removed from the portal, or the record now belongs to another playbook (a shared
    lead moved into another playbook's stage), the timer is cancelled instead of fired."""
    from app.rules.ownership import SHARED, governed, record_owner

    playbook = row.kind.split(".", 1)[0]
    if not governed(playbook):
        return None
    if playbook not in tuple(ctx.playbooks):
        return f"playbook {playbook} is not installed on this portal"
    owner = record_owner(
        row.entity,
        record,
        installed=ctx.playbooks,
        naming=ctx.naming,
        settings=ctx.settings,
        related=related,
    )
    if owner is SHARED or owner == playbook:
        return None
    return f"the {row.entity} belongs to {owner or 'no installed playbook'}, not {playbook}"


def _load(services: Any, timer_id: int) -> _Row | None:
    with services.session() as session:
        t = session.get(Timer, timer_id)
        if t is None:
            return None
        return _Row(
            t.id,
            t.member_id,
            t.kind,
            t.entity,
            t.record_id,
            t.due_at,
            dict(t.payload or {}),
            t.cancel_on,
            t.state,
            t.claimed_by,
        )


def _finish(services: Any, row: _Row, token: str, state: str, outcome: str) -> None:
    """Settle the claim (only if it is still ours: a rule may have cancelled it meanwhile)."""
    with services.session() as session:
        session.execute(
            update(Timer)
            .where(Timer.id == row.id, Timer.claimed_by == token, Timer.state == ENQUEUED)
            .values(state=state, finished_at=utcnow(), outcome=outcome, lease_until=None),
            execution_options={"synchronize_session": False},
        )
        session.commit()
