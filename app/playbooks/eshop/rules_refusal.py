"""Eshop (seed 004: «Когда клиент отказывается от заказа, менеджер фиксирует причину»): no
«Отменён» without «Причина отказа».

An order moved to «Отменён» with an empty refusal reason goes back to the stage it came
from; the timeline says why and the responsible is told (setting ``refusal_required_text``,
``{title}``) to fill the reason and cancel again — as furniture does. The portal cannot
refuse the move itself (events and robots run after it), so the app undoes it at once.
"""

from __future__ import annotations

from app.rules import actions as A
from app.rules.model import RESPONSIBLE_FIELD, STAGE_FIELD, Rule, RuleContext, on_stage_entered
from app.timers.steps import render

CANCELLED = "eshop.order.cancelled"
FALLBACK = "eshop.order.new"
REASON = "UF_CRM_ES_REFUSAL"


def require_reason(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    if str(record.get(STAGE_FIELD) or "") != CANCELLED:
        return []  # moved on again since: the change that put it there decides
    if record.get(REASON) not in (None, "", [], 0, "0"):
        return []
    rid = ctx.change.record_id
    back = ctx.change.stage_from or FALLBACK
    if not str(back).startswith("eshop.order.") or back == CANCELLED:
        back = FALLBACK
    text = render(str(ctx.settings.get("refusal_required_text") or ""), ctx).strip()
    out: list[A.Action] = [A.MoveStage("deal", rid, back, key="back")]
    if text:
        out.append(A.TimelineComment("deal", rid, text, key="why"))
        who = record.get(RESPONSIBLE_FIELD)
        if who:
            out.append(A.Notify((int(who),), text, key="told"))
    return out


RULES = [Rule("refusal_required", "deal", on_stage_entered(CANCELLED), require_reason)]
