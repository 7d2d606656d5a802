"""Kitchens work plan (spec §3 rules 7, 9, 10): tasks with deadlines and checklists per stage.

* «Клиент наш» → the manager: prepare and send the catalogue and the proposal (1 working day).
* «Каталог и КП отправлены» → the manager: follow up ``followup_working_days`` working days on.
* «Замер назначен» → a durable timer ``confirm_before_hours`` (24) before the measurement; when
  it fires the manager gets "confirm the measurement with the client" due at the visit.
  A new measurement time (reschedule) starts the timer again (same kind, the old one is
  replaced) — the cycle repeats.
* «Замер подтверждён» ticked → an SMS to the client, the measurer's visit task with its
  checklist (call an hour before, measure, design, full estimate) and the manager's final
  proposal task one working day after the visit.
* «Дата следующего контакта» → the client is told the date; a task waits for it.

Checklists are data (:data:`PLAN`); the ``stage_checklists`` setting overrides a step's
checklist by its key. Stage work runs on forward moves only and never while the lead is
blocked by the error control (``rules_control.blocked``/``forward``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from app.domain.calendar import WorkCalendar
from app.playbooks.kitchens.rules_control import (
    MEASUREMENT,
    NEXT_CONTACT,
    PROPOSAL,
    QUALIFIED,
    blocked,
    forward,
    own_stage,
)
from app.rules import actions as A
from app.rules.model import (
    RESPONSIBLE_FIELD,
    STAGE_FIELD,
    Rule,
    RuleContext,
    on_field_changed,
    on_stage_entered,
    on_timer,
)

CONFIRM_TIMER = "kitchens.confirm_measurement"
MEASURE_AT, MEASURER, CONFIRMED = (
    "UF_CRM_KT_MEASURE_AT",
    "UF_CRM_KT_MEASURER",
    "UF_CRM_KT_MEASURE_OK",
)
NEXT_DATE = "UF_CRM_KT_NEXT_CONTACT"

# key → (title, working days to the deadline, checklist)
PLAN: Mapping[str, tuple[str, int, tuple[str, ...]]] = {
    "proposal": (
        "Подготовить и отправить каталог и КП",
        1,
        ("Подобрать каталог по ответам клиента", "Подготовить КП", "Отправить каталог и КП"),
    ),
    "followup": (
        "Перезвонить клиенту по КП",
        2,
        ("Узнать впечатления от КП", "Ответить на вопросы", "Предложить замер"),
    ),
    "confirm": ("Подтвердить замер с клиентом", 0, ("Позвонить клиенту", "Подтвердить время")),
    "measurer": (
        "Замер",
        0,
        (
            "Позвонить клиенту за час до приезда",
            "Сделать замер",
            "Сделать дизайн-проект",
            "Составить полную смету",
        ),
    ),
    "final": (
        "Финальное КП после замера",
        1,
        ("Согласовать дизайн-проект", "Отправить финальное КП", "Получить согласие клиента"),
    ),
    "next_contact": ("Связаться с клиентом в назначенную дату", 0, ("Позвонить клиенту",)),
}


def calendar(settings: Mapping[str, Any]) -> WorkCalendar:
    return WorkCalendar.from_settings(
        tz=str(settings.get("time_zone") or "Europe/Moscow"),
        work_start=str(settings.get("work_start") or "09:00"),
        work_end=str(settings.get("work_end") or "18:00"),
        workdays=tuple(settings.get("workdays") or (1, 2, 3, 4, 5)),
        holidays=tuple(settings.get("holidays") or ()),
        extra_workdays=tuple(settings.get("extra_workdays") or ()),
    )


def checklist(settings: Mapping[str, Any], key: str) -> tuple[str, ...]:
    custom = (settings.get("stage_checklists") or {}).get(key)
    return tuple(str(i) for i in custom) if custom else PLAN[key][2]


def task(ctx: RuleContext, key: str, who: Any, deadline: datetime, **extra: Any) -> A.CreateTask:
    title, _days, _items = PLAN[key]
    return A.CreateTask(
        f"{title}: {(ctx.record or {}).get('title') or ctx.change.record_id}",
        int(who),
        deadline=deadline,
        checklist=checklist(ctx.settings, key),
        bind_to=("lead", ctx.change.record_id),
        key=key,
        **extra,
    )


def when(value: Any, settings: Mapping[str, Any]) -> datetime | None:
    """A date/datetime field's value as an aware datetime (a bare date: start of work)."""
    if value in (None, ""):
        return None
    if isinstance(value, str) and len(value.strip()) == 10:
        try:  # a date field ("2026-12-01"): the start of that working day
            value = date.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.fromisoformat(settings.get("work_start") or "09:00"))
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=calendar(settings).tz)
    return moment


def _manager(ctx: RuleContext) -> Any:
    return (ctx.record or {}).get(RESPONSIBLE_FIELD)


def _stage_ok(ctx: RuleContext) -> bool:
    return bool(_manager(ctx)) and forward(ctx) and not blocked(ctx)


def on_qualified(ctx: RuleContext) -> list[A.Action]:
    if not _stage_ok(ctx):
        return []
    due = calendar(ctx.settings).add_working(ctx.now, PLAN["proposal"][1])
    return [task(ctx, "proposal", _manager(ctx), due)]


def on_proposal(ctx: RuleContext) -> list[A.Action]:
    if not _stage_ok(ctx):
        return []
    days = int(ctx.settings.get("followup_working_days") or PLAN["followup"][1])
    due = calendar(ctx.settings).add_working(ctx.now, days)
    return [task(ctx, "followup", _manager(ctx), due)]


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
    if not _manager(ctx) or blocked(ctx) or visit is None or visit != planned:
        return []  # rescheduled since: the newer timer asks for the newer time
    return [task(ctx, "confirm", _manager(ctx), visit, priority=2)]


def on_confirmed(ctx: RuleContext) -> list[A.Action]:
    """Measurement confirmed: SMS to the client, the measurer's task, the final proposal."""
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
    out: list[A.Action] = [
        A.MessageClient("sms", ("lead", rid), "Замер", text, key="sms"),
        task(ctx, "measurer", measurer, visit + timedelta(hours=hours), priority=2),
    ]
    if _manager(ctx):
        final = calendar(ctx.settings).add_working(visit, PLAN["final"][1])
        out.append(task(ctx, "final", _manager(ctx), final))
    return out


def on_pause(ctx: RuleContext) -> list[A.Action]:
    """«Дата следующего контакта»: the client hears the date; a task waits for it."""
    record = ctx.record or {}
    moment = when(record.get(NEXT_DATE), ctx.settings)
    if not _manager(ctx) or blocked(ctx) or moment is None:
        return []
    rid = ctx.change.record_id
    local = moment.astimezone(calendar(ctx.settings).tz)
    text = f"Спасибо! Мы свяжемся с вами {local:%d.%m.%Y}."
    return [
        A.MessageClient("sms", ("lead", rid), "Следующий контакт", text, key="sms"),
        task(ctx, "next_contact", _manager(ctx), moment),
    ]


RULES = [
    Rule("plan_proposal", "lead", on_stage_entered(QUALIFIED), on_qualified),
    Rule("plan_followup", "lead", on_stage_entered(PROPOSAL), on_proposal),
    Rule("plan_confirm_timer", "lead", on_stage_entered(MEASUREMENT), schedule_confirmation),
    Rule("plan_reschedule", "lead", on_field_changed(MEASURE_AT), schedule_confirmation),
    Rule("plan_confirm_task", "lead", on_timer(CONFIRM_TIMER), confirm_task),
    Rule("plan_confirmed", "lead", on_field_changed(CONFIRMED), on_confirmed),
    Rule("plan_pause", "lead", on_stage_entered(NEXT_CONTACT), on_pause),
]
