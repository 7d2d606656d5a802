"""Build RuleContexts for timer rules without a portal (pure rule tests)."""

from __future__ import annotations

from datetime import datetime

from app.rules import actions as A
from app.rules.model import TIMER_FIRED, Change, RuleContext

M = "member-rules"


def ctx(change_kind, record, settings, now, *, entity="lead", rid=7, detail=None, **change):
    ch = Change(
        M, entity, rid, change_kind, cause="c1", after=record, detail=detail or {}, **change
    )
    return RuleContext(ch, record, {}, settings, None, now)


def fired(start: A.StartTimer, record, settings, now: datetime, audiences=None, timer_id=1):
    """The context of ``start``'s timer firing at ``now`` (audiences as the job resolves)."""
    detail = {"name": start.kind, "payload": dict(start.payload), "timer_id": timer_id}
    ch = Change(
        M, start.record[0], start.record[1], TIMER_FIRED, f"timer:{timer_id}", detail=detail
    )
    return RuleContext(ch, record, {"audiences": audiences or {}}, settings, None, now)


def only(actions, kind):
    return [a for a in actions if isinstance(a, kind)]
