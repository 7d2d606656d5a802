"""Eshop (spec §5 rule 3): an order entering a stage gets a task with that stage's hint.

``stage_hints`` maps a stage code to the hint («Подтвердите адрес доставки» on
«Подтверждён»); the order's responsible gets a task with it, bound to the order and due
when the stage's time limit (``stage_limits_hours``) runs out — no deadline for a stage
without one. One task per entry into the stage: a replayed event creates nothing, a
later return to the stage asks again.
"""

from __future__ import annotations

from datetime import timedelta

from app.rules import actions as A
from app.rules.model import RESPONSIBLE_FIELD, STAGE_FIELD, Rule, RuleContext, on_stage_entered
from app.timers.calendars import calendar_for


def hint_task(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    stage = str(record.get(STAGE_FIELD) or "")
    hints = ctx.settings.get("stage_hints") or {}
    hint = str(hints.get(stage) or "").strip() if isinstance(hints, dict) else ""
    who = record.get(RESPONSIBLE_FIELD)
    if not stage.startswith("eshop.order.") or not hint or not who:
        return []
    limits = ctx.settings.get("stage_limits_hours") or {}
    hours = limits.get(stage) if isinstance(limits, dict) else None
    deadline = None
    if hours:
        cal = calendar_for(ctx.settings, "stage_limits_working_hours")
        span = timedelta(hours=float(hours))
        deadline = cal.add_working(ctx.now, span) if cal else ctx.now + span
    title = f"{hint}: {record.get('title') or ctx.change.record_id}"
    return [
        A.CreateTask(
            title,
            int(who),
            deadline=deadline,
            description=hint,
            bind_to=("deal", ctx.change.record_id),
            key="hint",
            tag=f"eshop.hint.{stage.rsplit('.', 1)[-1]}",
        )
    ]


RULES = [Rule("stage_hint_task", "deal", on_stage_entered(), hint_task)]
