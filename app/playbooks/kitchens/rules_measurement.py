"""Kitchens measurement (spec §3 rule 9): the 24-hour confirmation, the visit, the final offer.

* «Замер назначен» → a durable timer ``confirm_before_hours`` (24) before the measurement; when
  it fires the manager gets "confirm the measurement with the client", due at the visit. A new
  measurement time starts a new timer; the old one finds the time changed and does nothing —
  the cycle repeats. (The booking API's own writes do not come back to the rules, so its job
  starts the timer with :func:`confirmation_timer` itself.)
* «Замер подтверждён» ticked → an SMS to the client (``measurement_confirmed_sms``) and the
  measurer's visit task with its checklist (call an hour before, measure, design, full
  estimate). The manager's final proposal follows when the measurer closes that task
  (``rules_tasks``). ``measurer_call_before_minutes`` (60) before the visit the measurer is
  reminded to call the client (``measurer_call_text``, with the client's phone and
  «Особые пожелания заказчика»), unless the visit moved or the lead left the stage.
* A new time or measurer moves the lead's open visit tasks (the confirmation to the visit,
  the measurer's task to its end, handed to the new measurer) instead of leaving them at
  the old time; a confirmation asked again reuses them. A cancelled booking sets them
  aside («Отложена»), which is not "done": no final proposal follows
  (:func:`visit_task_changes`, also used by the booking job).
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
    move_task,
    open_task,
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
from app.sync.tasks import OPEN_TASKS
from app.timers import handlers
from app.timers.steps import render

CALL_TIMER = "kitchens.measurer_call"
WISHES = "UF_CRM_KT_WISHES"
handlers.register_kind(CALL_TIMER)


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
    tasks = ctx.related.get(OPEN_TASKS)
    out += visit_task_changes(tasks, ctx.settings, visit, record.get(MEASURER))
    return out


def visit_task_changes(
    tasks: Any, settings: Mapping[str, Any], visit: datetime | None, measurer: Any
) -> list[A.Action]:
    """Bring the lead's open visit tasks (``tasks``: its open tasks of the app) in line with
    the booking: the confirmation due at ``visit``, the measurer's task at the visit's end
    and with ``measurer``; both set aside when there is no visit any more (cancelled)."""
    confirm, visit_task = open_task(tasks, "confirm"), open_task(tasks, "measurer")
    if visit is None:
        return [A.UpdateTask(int(t["id"]), defer=True) for t in (confirm, visit_task) if t]
    out: list[A.Action] = []
    if confirm:
        out += move_task(confirm, settings, visit)
    if visit_task:
        out += move_task(visit_task, settings, _visit_end(visit, settings), measurer)
    return out


def _visit_end(visit: datetime, settings: Mapping[str, Any]) -> datetime:
    return visit + timedelta(hours=float(settings.get("measurement_hours") or 3))


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
    asked = open_task(ctx.related.get(OPEN_TASKS), "confirm")
    if asked is not None:  # still open from an earlier time: it is moved, not doubled
        return move_task(asked, ctx.settings, visit, manager(ctx))
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
    text = _visit_text(ctx, "measurement_confirmed_sms", visit)
    out: list[A.Action] = []
    if text:
        out.append(A.MessageClient("sms", ("lead", rid), "Замер", text, key="sms"))
    out.append(call_reminder(ctx, visit, measurer))
    end = _visit_end(visit, ctx.settings)
    existing = open_task(ctx.related.get(OPEN_TASKS), "measurer")
    if existing is not None:  # confirmed again after a move: the same visit task
        return [*out, *move_task(existing, ctx.settings, end, measurer)]
    return [*out, task(ctx, "measurer", measurer, end, priority=2)]


def _visit_text(ctx: RuleContext, key: str, visit: datetime) -> str:
    record = ctx.record or {}
    local = visit.astimezone(calendar(ctx.settings).tz)
    phones = [
        str(f.get("value"))
        for f in record.get("fm") or []
        if isinstance(f, Mapping) and f.get("typeId") == "PHONE" and f.get("value")
    ]
    return render(
        str(ctx.settings.get(key) or ""),
        ctx,
        date=f"{local:%d.%m.%Y}",
        time=f"{local:%H:%M}",
        address=record.get("UF_CRM_KT_ADDRESS") or "—",
        phone=", ".join(phones) or "—",
        wishes=str(record.get(WISHES) or "").strip() or "нет",
    ).strip()


def call_reminder(ctx: RuleContext, visit: datetime, measurer: Any) -> A.StartTimer:
    """The timer that reminds the measurer to call the client before ``visit``."""
    minutes = float(ctx.settings.get("measurer_call_before_minutes") or 60)
    stage = str((ctx.record or {}).get(STAGE_FIELD))
    payload = {"stage": stage, "visit": visit.isoformat(), "measurer": measurer}
    return A.StartTimer(
        CALL_TIMER,
        max(visit - timedelta(minutes=minutes), ctx.now),
        ("lead", ctx.change.record_id),
        payload,
        cancel_on="stage_left",
        key=f"call:{visit.isoformat()}",
    )


def remind_measurer(ctx: RuleContext) -> list[A.Action]:
    """An hour before the visit: the measurer calls the client (seed 002: «замерщик обязан
    за час до прибытия проинформировать клиента»), and the client also gets the arrival
    notice by SMS (``measurer_arrival_text``; empty = none), so a missed call still tells
    them when and where."""
    record = ctx.record or {}
    visit = when(record.get(MEASURE_AT), ctx.settings)
    planned = when(ctx.change.detail.get("payload", {}).get("visit"), ctx.settings)
    measurer = record.get(MEASURER)
    if visit is None or visit != planned or not measurer or not _confirmed(record):
        return []  # moved or unconfirmed since: a newer confirmation plans its own reminder
    text = _visit_text(ctx, "measurer_call_text", visit)
    out: list[A.Action] = [A.Notify((int(measurer),), text, key="call")] if text else []
    notice = _visit_text(ctx, "measurer_arrival_text", visit)
    if notice:
        lead = ("lead", ctx.change.record_id)
        out.append(
            A.MessageClient(
                "sms", lead, "Замерщик в пути", notice, key="arrival", template="arrival"
            )
        )
    return out


def on_measurer_changed(ctx: RuleContext) -> list[A.Action]:
    """Another measurer typed into the lead: the open visit task goes to them."""
    record = ctx.record or {}
    if own_stage(ctx.schema, record.get(STAGE_FIELD)) != MEASUREMENT or not record.get(MEASURER):
        return []
    if MEASURE_AT in (ctx.change.fields_changed or ()):
        return []  # moved and handed over in one save: the reschedule rule does both
    visit = when(record.get(MEASURE_AT), ctx.settings)
    return visit_task_changes(ctx.related.get(OPEN_TASKS), ctx.settings, visit, record[MEASURER])


_OPEN = (OPEN_TASKS,)
RULES = [
    Rule(
        "plan_confirm_timer",
        "lead",
        on_stage_entered(MEASUREMENT),
        schedule_confirmation,
        needs=_OPEN,
    ),
    Rule(
        "plan_reschedule", "lead", on_field_changed(MEASURE_AT), schedule_confirmation, needs=_OPEN
    ),
    Rule(
        "plan_measurer_changed",
        "lead",
        on_field_changed(MEASURER),
        on_measurer_changed,
        needs=_OPEN,
    ),
    Rule("plan_confirm_task", "lead", on_timer(CONFIRM_TIMER), confirm_task, needs=_OPEN),
    Rule("plan_confirmed", "lead", on_field_changed(CONFIRMED), on_confirmed, needs=_OPEN),
    Rule("measurer_call", "lead", on_timer(CALL_TIMER), remind_measurer),
]
