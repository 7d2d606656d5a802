"""Eshop: a time limit per order stage; an order over it is reported to the head of sales.

Entering a stage with a limit in ``stage_limits_hours`` (stage code → hours) starts a
timer; leaving the stage cancels it (and a late timer re-checks ``stage_left``). When it
fires, the alert goes to the dedicated chat ``alert_chat_id`` (``im.message.add``, spec
"a dedicated chat"); only when no chat is configured is the head of sales notified instead
(``im.notify.system.add``). ``stage_limits_working_hours: true`` counts the limit in
working hours.
"""

from __future__ import annotations

from datetime import timedelta

from app.playbooks.eshop import PLAYBOOK
from app.rules import actions as A
from app.rules.model import STAGE_FIELD, Rule, RuleContext, on_stage_entered, on_timer
from app.timers import handlers
from app.timers.calendars import calendar_for
from app.timers.sequences import audience_ids
from app.timers.steps import render

KIND = "eshop.stage_limit"
STAGE_NAMES = {st.code: st.name.ru for p in PLAYBOOK.pipelines for st in p.stages}
MESSAGE = "Заказ «{title}» на стадии «{stage}» дольше {hours} ч"
handlers.register_kind(KIND, ("head_of_sales",))


def start_limit(ctx: RuleContext) -> list[A.Action]:
    """Cancel the previous stage's timer; start this stage's if it has a limit."""
    stage = (ctx.record or {}).get(STAGE_FIELD) or ctx.change.stage_to
    record = ("deal", ctx.change.record_id)
    out: list[A.Action] = [A.CancelTimer(KIND, record, key="cancel")]
    limits = ctx.settings.get("stage_limits_hours") or {}
    hours = limits.get(stage) if isinstance(limits, dict) else None
    if not hours:
        return out
    cal = calendar_for(ctx.settings, "stage_limits_working_hours")
    span = timedelta(hours=float(hours))
    due = cal.add_working(ctx.now, span) if cal else ctx.now + span
    payload = {"stage": stage, "hours": hours}
    out.append(A.StartTimer(KIND, due, record, payload, "stage_left", key="start"))
    return out


def over_limit(ctx: RuleContext) -> list[A.Action]:
    chat = str(ctx.settings.get("alert_chat_id") or "").strip()
    users = audience_ids(ctx, ("head_of_sales",))
    if not chat and not users:
        return []
    payload = ctx.change.detail.get("payload") or {}
    stage = payload.get("stage", "")
    label = STAGE_NAMES.get(stage, stage)
    template = str(ctx.settings.get("stage_limit_text") or "").strip() or MESSAGE
    text = render(template, ctx, stage=label, hours=payload.get("hours"))
    return [A.ChatMessage(chat, text, tuple(users))]


RULES = [
    Rule("stage_limit_start", "deal", on_stage_entered(), start_limit),
    Rule("stage_limit_fire", "deal", on_timer(KIND), over_limit),
]
