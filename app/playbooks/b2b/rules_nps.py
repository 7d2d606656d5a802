"""B2B (seed 003: «после первого заказа покупателям приходил опрос» about delivery,
packaging and shelf life): the satisfaction survey after the first delivery.

``nps_delay_days`` (default 3) after a deal reaches «Первая поставка», if it is still won,
the client gets the survey text (setting ``nps_survey_text``) and the responsible a to-do
to record the answers in the deal's NPS fields (``nps_todo_text``). Texts take ``{title}``.
"""

from __future__ import annotations

from datetime import timedelta

from app.rules import actions as A
from app.rules.model import (
    RESPONSIBLE_FIELD,
    STAGE_FIELD,
    Rule,
    RuleContext,
    on_stage_entered,
    on_timer,
)
from app.timers import handlers
from app.timers.calendars import work_calendar
from app.timers.steps import render

FIRST_DELIVERY = "b2b.sales.won"
KIND = "b2b.nps"
handlers.register_kind(KIND)


def start_survey(ctx: RuleContext) -> list[A.Action]:
    days = float(ctx.settings.get("nps_delay_days") or 3)
    record = ("deal", ctx.change.record_id)
    payload = {"stage": FIRST_DELIVERY}
    due = ctx.now + timedelta(days=days)
    return [A.StartTimer(KIND, due, record, payload, "stage_left", key="nps")]


def survey(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    if record.get(STAGE_FIELD) != FIRST_DELIVERY:
        return []
    rid = ctx.change.record_id
    out: list[A.Action] = []
    text = render(str(ctx.settings.get("nps_survey_text") or ""), ctx).strip()
    if text:
        out.append(A.MessageClient("email", ("deal", rid), "Как прошла поставка?", text, key="nps"))
    todo = render(str(ctx.settings.get("nps_todo_text") or ""), ctx).strip()
    who = record.get(RESPONSIBLE_FIELD)
    if todo and who:
        due = work_calendar(ctx.settings).next_working_moment(ctx.now + timedelta(days=1))
        out.append(A.CreateTodo(("deal", rid), todo, due, responsible_id=int(who), key="nps_todo"))
    return out


RULES = [
    Rule("nps_start", "deal", on_stage_entered(FIRST_DELIVERY), start_survey),
    Rule("nps_survey", "deal", on_timer(KIND), survey),
]
