"""Metal deals: deferred demand, its 60/30/30-day cadence, the client coming back, resuming.

* «Переговоры» with a construction start more than ``deferred_after_days`` away → the deal
  moves to «Отложенный спрос» and the cadence starts (our own move does not come back as a
  change, so the rule starts it itself; a manual move to «Отложенный спрос» starts it too).
* The cadence (timers engine, kind ``metal.deferred``): reminder after ``reminder_1_days``,
  a second after ``reminder_2_days`` more, then after ``resume_after_days`` more a call task
  and «Возобновление работы». Leaving the stage stops it; the timer job also re-checks
  ``client_returned`` (a communication logged since the start).
* The client gets in touch (a new activity on the deal or on its contact/company, or a new
  lead from the same client): the cadence stops and the deal moves to «Возобновление
  работы» at once, with the task.
* Entering «Возобновление работы» by hand creates the same task.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from app.domain.cadences import deferred_demand_cadence
from app.objects.providers import CLIENT, DEFERRED_DEALS
from app.rules import actions as A
from app.rules.model import (
    RESPONSIBLE_FIELD,
    Rule,
    RuleContext,
    on_created,
    on_stage_entered,
    on_stage_left,
)
from app.timers import sequences as seq
from app.timers.steps import standard_act

NEGOTIATION = "metal.deal.negotiation"
DEFERRED = "metal.deal.deferred"
RESUMED = "metal.deal.resumed"
START_FIELD = "UF_CRM_MT_START_DATE"
OUTGOING = "2"  # crm.activity DIRECTION: 1 incoming, 2 outgoing
TASK_TITLE = "Связаться с клиентом и возобновить работу по сделке «{title}»"
TEXTS = {
    "deferred_reminder_1": (
        "Здравствуйте! Напоминаем о вашем проекте «{title}». Если сроки строительства "
        "изменились, мы подготовим обновлённое предложение."
    ),
    "deferred_reminder_2": (
        "Здравствуйте! Строительный сезон близко — давайте уточним сроки по проекту «{title}»."
    ),
}


def _days(settings: Mapping[str, Any], key: str, default: float) -> timedelta:
    return timedelta(days=float(settings.get(key) or default))


def cadence(settings: Mapping[str, Any]):
    """The 60/30/30 cadence with the reminder texts and the call task's title from the
    settings (``deferred_reminder_1_text``, ``deferred_reminder_2_text``,
    ``resume_task_text``; ``{title}``), the built-in ones when a setting is empty."""
    seq_ = deferred_demand_cadence(
        _days(settings, "reminder_1_days", 60),
        _days(settings, "reminder_2_days", 30),
        _days(settings, "resume_after_days", 30),
    )
    own = {
        "deferred_reminder_1": settings.get("deferred_reminder_1_text"),
        "deferred_reminder_2": settings.get("deferred_reminder_2_text"),
    }
    steps = []
    for step in seq_.steps:
        text = own.get(step.template)
        if step.action == "task" and str(settings.get("resume_task_text") or "").strip():
            text = settings["resume_task_text"]
        steps.append(replace(step, template=str(text)) if str(text or "").strip() else step)
    return replace(seq_, steps=tuple(steps))


CADENCE = seq.SequenceSpec(
    "metal.deferred",
    "deal",
    build=cadence,
    act=standard_act(texts=TEXTS, stages={"resumed": RESUMED}, task_days=1),
    cancel_on="client_returned",
    roles=lambda _s: (),
)


def _start_date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            return None


def _start_cadence(ctx: RuleContext) -> list[A.Action]:
    return seq.start(CADENCE, ctx, payload={"stage": DEFERRED, "since": ctx.now.isoformat()})


def deferred_check(ctx: RuleContext) -> list[A.Action]:
    start = _start_date((ctx.record or {}).get(START_FIELD))
    if start is None:
        return []
    limit = _days(ctx.settings, "deferred_after_days", 183)
    if start - ctx.now.date() <= limit:
        return []
    rid = ctx.change.record_id
    return [A.MoveStage("deal", rid, DEFERRED, key="deferred"), *_start_cadence(ctx)]


def resume_task(ctx: RuleContext, record: Mapping[str, Any], deal_id: int) -> list[A.Action]:
    who = record.get(RESPONSIBLE_FIELD)
    if not who:
        return []
    template = str(ctx.settings.get("resume_task_text") or "").strip() or TASK_TITLE
    title = template.replace("{title}", str(record.get("title") or f"#{deal_id}"))
    return [
        A.CreateTask(
            title,
            int(who),
            deadline=ctx.now + timedelta(days=1),
            bind_to=("deal", deal_id),
            key=f"task{deal_id}",
        )
    ]


def on_resumed(ctx: RuleContext) -> list[A.Action]:
    return resume_task(ctx, ctx.record or {}, ctx.change.record_id)


def client_came_back(ctx: RuleContext) -> list[A.Action]:
    """Every deferred deal of the client (need ``metal.deferred_deals``) resumes now.
    Our own outgoing calls and e-mails (``DIRECTION`` 2) are not the client getting in touch."""
    if ctx.change.entity == "activity" and str((ctx.record or {}).get("DIRECTION")) == OUTGOING:
        return []
    out: list[A.Action] = []
    for deal in ctx.related.get(DEFERRED_DEALS) or []:
        deal_id = int(deal["id"])
        out.append(A.CancelTimer(CADENCE.kind, ("deal", deal_id), key=f"stop{deal_id}"))
        out.append(A.MoveStage("deal", deal_id, RESUMED, key=f"resume{deal_id}"))
        record = {RESPONSIBLE_FIELD: deal.get("responsible"), "title": deal.get("title")}
        out += resume_task(ctx, record, deal_id)
    return out


RULES = [
    Rule("deal_deferred_check", "deal", on_stage_entered(NEGOTIATION), deferred_check),
    Rule(
        "deal_deferred_start",
        "deal",
        on_stage_entered(DEFERRED),
        _start_cadence,
    ),
    Rule("deal_deferred_stop", "deal", on_stage_left(DEFERRED), lambda ctx: seq.stop(CADENCE, ctx)),
    CADENCE.rule("deal_deferred_fire"),
    Rule("deal_resumed_task", "deal", on_stage_entered(RESUMED), on_resumed),
    Rule(
        "activity_client_back",
        "activity",
        on_created(),
        client_came_back,
        needs=("owner", DEFERRED_DEALS),
    ),
    Rule(
        "lead_client_back", "lead", on_created(), client_came_back, needs=(CLIENT, DEFERRED_DEALS)
    ),
]
