"""Kitchens measurement (spec §3 rule 9): the 24-hour confirmation, the visit, the final offer.

* «Замер назначен» → a durable timer ``confirm_before_hours`` (24) before the measurement; when
  it fires the manager gets "confirm the measurement with the client", due at the visit. A new
  measurement time starts a new timer; the old one finds the time changed and does nothing —
  the cycle repeats. (The booking API's own writes do not come back to the rules, so its job
  starts the timer with :func:`confirmation_timer` itself.)
* «Замер подтверждён» ticked → an SMS to the client and the measurer's visit task with its
  checklist (call an hour before, measure, design, full estimate). The manager's final
  proposal follows when the measurer closes that task (``rules_tasks``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from app.playbooks.kitchens.rules_control import MEASUREMENT, blocked, forward, own_stage
from app.playbooks.kitchens.rules_workplan import (
    CONFIRM_TIMER,
    CONFIRMED,
    MEASURE_AT,
    MEASURER,
    calendar,
    manager,
    task,
    when,
)
from app.rules import actions as A
from app.rules.model import (
    STAGE_FIELD,
    Rule,
    RuleContext,
    on_field_changed,
    on_stage_entered,
    on_timer,
)


def schedule_confirmation(ctx: RuleContext) -> list[A.Action]:
    """Entering «Замер назначен» or a new measurement time there: the 24-hour timer."""
    record = ctx.record or {}
    if own_stage(ctx.schema, record.get(STAGE_FIELD)) != MEASUREMENT or blocked(ctx):
        return []
    if ctx.change.kind == "stage_entered" and not forward(ctx):
        return []
    visit = when(record.get(MEASURE_AT), ctx.settings)
    if visit is None:
        return []
    rid = ctx.change.record_id
    stage = str(record.get(STAGE_FIELD))
    out: list[A.Action] = [confirmation_timer(rid, visit, stage, ctx.settings, ctx.now)]
    if ctx.change.kind == "field_changed" and _confirmed(record):
        out.append(A.UpdateFields("lead", rid, {CONFIRMED: "N"}))  # a new time: confirm again
    return out


def _confirmed(record: Mapping[str, Any]) -> bool:
    return record.get(CONFIRMED) in (True, "Y", "1", 1)


def confirmation_timer(
    lead_id: int, visit: datetime, stage: str, settings: Mapping[str, Any], now: datetime
) -> A.StartTimer:
    """The durable timer that asks the manager to confirm ``visit`` (``confirm_before_hours``
    before it, at once when that is past). Also used by the booking job, whose own writes
    do not come back to the rules."""
    before = timedelta(hours=float(settings.get("confirm_before_hours") or 24))
    payload = {"stage": stage, "visit": visit.isoformat()}
    return A.StartTimer(
        CONFIRM_TIMER,
        max(visit - before, now),
        ("lead", lead_id),
        payload,
        cancel_on="stage_left",
        key=f"confirm:{visit.isoformat()}",
    )


def confirm_task(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    visit = when(record.get(MEASURE_AT), ctx.settings)
    planned = when(ctx.change.detail.get("payload", {}).get("visit"), ctx.settings)
    if not manager(ctx) or blocked(ctx) or visit is None or visit != planned:
        return []  # rescheduled since: the newer timer asks for the newer time
    return [task(ctx, "confirm", manager(ctx), visit, priority=2)]


def on_confirmed(ctx: RuleContext) -> list[A.Action]:
    """Measurement confirmed: SMS to the client and the measurer's task."""
    record = ctx.record or {}
    if not _confirmed(record) or blocked(ctx):
        return []
    visit = when(record.get(MEASURE_AT), ctx.settings)
    measurer = record.get(MEASURER)
    if visit is None or not measurer:
        return []
    rid = ctx.change.record_id
    local = visit.astimezone(calendar(ctx.settings).tz)
    text = (
        f"Замер кухни подтверждён: {local:%d.%m.%Y} в {local:%H:%M}, "
        f"адрес: {record.get('UF_CRM_KT_ADDRESS') or '—'}. Замерщик позвонит за час до приезда."
    )
    hours = float(ctx.settings.get("measurement_hours") or 3)
    return [
        A.MessageClient("sms", ("lead", rid), "Замер", text, key="sms"),
        task(ctx, "measurer", measurer, visit + timedelta(hours=hours), priority=2),
    ]


RULES = [
    Rule("plan_confirm_timer", "lead", on_stage_entered(MEASUREMENT), schedule_confirmation),
    Rule("plan_reschedule", "lead", on_field_changed(MEASURE_AT), schedule_confirmation),
    Rule("plan_confirm_task", "lead", on_timer(CONFIRM_TIMER), confirm_task),
    Rule("plan_confirmed", "lead", on_field_changed(CONFIRMED), on_confirmed),
]
