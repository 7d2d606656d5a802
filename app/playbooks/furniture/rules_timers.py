"""Furniture timers: store escalation, the store-visit nurture, the auto-win after delivery.

* **Escalation** — when a new lead is handed to a store administrator (its responsible
  changes while it is «Новый лид»), the administrator is reminded after
  ``remind_after_hours`` (default 1) and the store manager (``store_managers`` by the lead's
  store, else city) is told after ``escalate_after_hours`` (default 3) — unless the client
  was contacted meanwhile (condition ``client_contacted``: stage moved, lead reassigned, or
  an activity logged). ``escalation_working_hours: true`` counts working hours.
* **Nurture** — «Клиент пришёл в магазин» starts a cadence: SMS on the days of
  ``reminder_cadence_days`` (default 3, 10, 20 after the visit), the n-th with the n-th text
  of ``reminder_texts`` (reminders and offers, ``{title}``; the last repeats when there are
  fewer texts than days); if the client has not come
  back after ``return_window_days`` (default 30), a Contact is created from the lead's name
  and phone and the lead closes as «Не вернулся после визита в магазин». Leaving the stage
  (the client came back) stops it.
* **Auto-win** — ``auto_win_after_days`` (default 3) after «Дата доставки/выдачи» (at
  10:00 local time) a deal in «Доставка/Оплата» moves to «Сделка успешна». The timer is
  planned when the deal enters the stage with the date filled, or when the date is filled or
  moved while it is there; a timer planned for another date (or a deal no longer in the
  stage) does nothing. Without a date the deal waits and the responsible is told to fill it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.domain.cadences import store_escalation
from app.domain.dates import as_date
from app.domain.sequences import Sequence, Step
from app.rules import actions as A
from app.rules.model import (
    RESPONSIBLE_FIELD,
    STAGE_ENTERED,
    STAGE_FIELD,
    Rule,
    RuleContext,
    on_field_changed,
    on_responsible_changed,
    on_stage_entered,
    on_stage_left,
    on_timer,
)
from app.timers import handlers
from app.timers import sequences as seq
from app.timers.calendars import DEFAULT_TZ, calendar_for
from app.timers.steps import render, standard_act

LEAD_NEW = "furniture.lead.new"
VISITED = "furniture.lead.visited"
NOT_RETURNED = "furniture.lead.not_returned"
DELIVERY = "furniture.deal.delivery"
WON = "furniture.deal.won"
AUTO_WIN = "furniture.auto_win"
DELIVERED = "UF_CRM_FR_DELIVERED_AT"

REMINDER = (
    "Спасибо, что заглянули в наш магазин! Ждём вас снова — для вас действуют спецпредложения."
)


def _hours(settings: Mapping[str, Any], key: str, default: float) -> timedelta:
    return timedelta(hours=float(settings.get(key) or default))


def escalation_sequence(settings: Mapping[str, Any]) -> Sequence:
    """The store escalation with its notices from ``escalation_remind_text`` and
    ``escalation_manager_text`` (``{title}``; the built-in wording when empty)."""
    remind = _hours(settings, "remind_after_hours", 1)
    manager = _hours(settings, "escalate_after_hours", 3)
    chain = store_escalation(remind_after=min(remind, manager), manager_after=manager)
    own = (settings.get("escalation_remind_text"), settings.get("escalation_manager_text"))
    steps = tuple(
        replace(step, template=str(text)) if str(text or "").strip() else step
        for step, text in zip(chain.steps, own, strict=True)
    )
    return replace(chain, steps=steps)


def nurture_sequence(settings: Mapping[str, Any]) -> Sequence:
    """Reminders on the given days after the visit (absolute days → steps' deltas)."""
    days = sorted(float(d) for d in settings.get("reminder_cadence_days") or (3, 10, 20))
    window = float(settings.get("return_window_days") or 30)
    texts = [str(t) for t in settings.get("reminder_texts") or () if str(t).strip()]
    steps, previous = [], 0.0
    for i, day in enumerate(d for d in days if d < window):
        # the i-th touch's own text (reminders and offers), the last one repeating
        text = texts[min(i, len(texts) - 1)] if texts else REMINDER
        steps.append(Step(timedelta(days=day - previous), "message_client", template=text))
        previous = day
    steps.append(
        Step(
            timedelta(days=window - previous),
            "close_lost",
            params={"stage": "did_not_return", "create_contact": True},
        )
    )
    return Sequence("store_visit_nurture", tuple(steps), stop_condition="client_returned")


ESCALATION = seq.SequenceSpec(
    "furniture.store_escalation",
    "lead",
    build=escalation_sequence,
    act=standard_act(),
    cancel_on="client_contacted",
    calendar=lambda s: calendar_for(s, "escalation_working_hours"),
)
NURTURE = seq.SequenceSpec(
    "furniture.store_visit",
    "lead",
    build=nurture_sequence,
    act=standard_act(
        texts={"reminder": REMINDER},
        stages={"did_not_return": NOT_RETURNED},
        channel="sms",
    ),
    cancel_on="client_returned",
    roles=lambda _s: (),
)
handlers.register_kind(AUTO_WIN)


def start_escalation(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    if record.get(STAGE_FIELD) != LEAD_NEW or not record.get(RESPONSIBLE_FIELD):
        return []
    payload = {
        "stage": LEAD_NEW,
        "responsible": record.get(RESPONSIBLE_FIELD),
        "since": ctx.now.isoformat(),
    }
    # a second hand-off restarts the chain for the new administrator
    return [*seq.stop(ESCALATION, ctx), *seq.start(ESCALATION, ctx, payload=payload)]


def start_nurture(ctx: RuleContext) -> list[A.Action]:
    payload = {"stage": VISITED, "since": ctx.now.isoformat()}
    return seq.start(NURTURE, ctx, payload=payload)


def _win_at(ctx: RuleContext, delivered: date) -> datetime:
    """When a deal delivered (or picked up) on ``delivered`` is closed as won."""
    tz = ZoneInfo(str(ctx.settings.get("time_zone") or DEFAULT_TZ))
    days = float(ctx.settings.get("auto_win_after_days") or 3)
    return datetime.combine(delivered, time(10, 0), tzinfo=tz) + timedelta(days=days)


def start_auto_win(ctx: RuleContext) -> list[A.Action]:
    """Plan the auto-win from «Дата доставки/выдачи» (re-planned when the date moves)."""
    record = ctx.record or {}
    if str(record.get(STAGE_FIELD) or "") != DELIVERY:
        return []
    rid = ctx.change.record_id
    delivered = as_date(record.get(DELIVERED))
    if delivered is None:
        if ctx.change.kind != STAGE_ENTERED:
            return []  # the date was cleared: every planned timer finds it gone
        days = f"{float(ctx.settings.get('auto_win_after_days') or 3):g}"
        text = render(str(ctx.settings.get("auto_win_no_date_text") or ""), ctx, days=days)
        out: list[A.Action] = [A.TimelineComment("deal", rid, text, key="no_date")] if text else []
        who = record.get(RESPONSIBLE_FIELD)
        if text and who:
            out.append(A.Notify((int(who),), text, key="no_date_note"))
        return out
    payload = {"stage": DELIVERY, "delivered": delivered.isoformat()}
    due = max(_win_at(ctx, delivered), ctx.now)
    record_ref = ("deal", rid)
    key = f"win:{delivered.isoformat()}"
    return [A.StartTimer(AUTO_WIN, due, record_ref, payload, "stage_left", key=key)]


def auto_win(ctx: RuleContext) -> list[A.Action]:
    """Win the deal if it is still in delivery with the date this timer was planned for and
    that date is ``auto_win_after_days`` behind (timers of an earlier plan do nothing)."""
    record = ctx.record or {}
    if str(record.get(STAGE_FIELD) or "") != DELIVERY:
        return []
    delivered = as_date(record.get(DELIVERED))
    planned = (ctx.change.detail.get("payload") or {}).get("delivered")
    if delivered is None or (planned and planned != delivered.isoformat()):
        return []
    if ctx.now < _win_at(ctx, delivered):
        return []  # a timer of the old rule (3 days after entering the stage) fires early
    return [A.MoveStage("deal", ctx.change.record_id, WON)]


RULES = [
    Rule("escalation_start", "lead", on_responsible_changed(), start_escalation),
    Rule(
        "escalation_stop",
        "lead",
        on_stage_left(LEAD_NEW),
        lambda ctx: seq.stop(ESCALATION, ctx),
    ),
    ESCALATION.rule("escalation_fire"),
    Rule("visit_nurture_start", "lead", on_stage_entered(VISITED), start_nurture),
    Rule("visit_nurture_stop", "lead", on_stage_left(VISITED), lambda ctx: seq.stop(NURTURE, ctx)),
    NURTURE.rule("visit_nurture_fire"),
    Rule("auto_win_start", "deal", on_stage_entered(DELIVERY), start_auto_win),
    Rule("auto_win_on_date", "deal", on_field_changed(DELIVERED), start_auto_win),
    Rule("auto_win_fire", "deal", on_timer(AUTO_WIN), auto_win),
]
