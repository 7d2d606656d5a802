"""Furniture (spec §2 lead rule 5, deal rule 4): no failure without a refusal reason.

A lead moved to «Некачественный лид» or a deal moved to «Сделка сорвана» with an empty
«Причина отказа» goes back to the stage it came from; the timeline says why and the
responsible is told to fill the reason and close it again. (The portal cannot refuse the
move itself — a robot or event runs after it — so the app undoes it at once.) A lead on a
failure stage shared with another installed playbook is checked only when it is ours.
"""

from __future__ import annotations

from app.playbooks.lead_owner import owns
from app.rules import actions as A
from app.rules.model import RESPONSIBLE_FIELD, STAGE_FIELD, Rule, RuleContext, on_stage_entered
from app.timers.steps import render

REASON = "UF_CRM_FR_REFUSAL"
LEAD_FAILED = "furniture.lead.low_quality"
DEAL_FAILED = "furniture.deal.lost"
FALLBACK = {"lead": "furniture.lead.new", "deal": "furniture.deal.new"}
WHAT = {"lead": ("Лид", "«Некачественный лид»"), "deal": ("Сделка", "«Сделка сорвана»")}


def _empty(value) -> bool:
    return value in (None, "", [], 0, "0")


def _still_in(ctx: RuleContext, entity: str, code: str) -> bool:
    """Is the record (as read now) on stage ``code`` — under any code a shared stage has?"""
    current = str((ctx.record or {}).get(STAGE_FIELD) or "")
    if current == code:
        return True
    lookup = getattr(ctx.schema, "stage_codes", None)
    return bool(current and lookup) and code in lookup(entity, ctx.schema.stage_id(entity, current))


def require_reason(ctx: RuleContext) -> list[A.Action]:
    entity, rid = ctx.change.entity, ctx.change.record_id
    record = ctx.record or {}
    failed = LEAD_FAILED if entity == "lead" else DEAL_FAILED
    if not _still_in(ctx, entity, failed):
        return []  # it moved on again since: the change that put it there decides
    if entity == "lead" and not owns(ctx, "furniture"):
        return []
    if not _empty(record.get(REASON)):
        return []
    noun, stage = WHAT[entity]
    back = ctx.change.stage_from or FALLBACK[entity]
    text = render(
        str(ctx.settings.get("refusal_required_text") or ""), ctx, record=noun, stage=stage
    ).strip()
    out: list[A.Action] = [A.MoveStage(entity, rid, back)]
    if text:
        out.append(A.TimelineComment(entity, rid, text))
        who = record.get(RESPONSIBLE_FIELD)
        if who:
            out.append(A.Notify((int(who),), text))
    return out


RULES = [
    Rule("lead_refusal_required", "lead", on_stage_entered(LEAD_FAILED), require_reason),
    Rule("deal_refusal_required", "deal", on_stage_entered(DEAL_FAILED), require_reason),
]
