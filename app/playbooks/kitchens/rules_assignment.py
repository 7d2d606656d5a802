"""Kitchens assignment (spec §3 rules 1–2): a manually created lead belongs to its creator.

A lead created by hand (not from a form, call, e-mail or chat — those come through the
integration user and go through the SOS chain of ``rules_sos``) is given to the employee who
created it. The responsible change that follows moves it to «Менеджер назначен» through
``rules_sos.lead_taken`` (the SOS chain and that move are TIMERS' and not repeated here).
The creators in ``sos_pool_user_ids`` (integration users) are never "the creator".
"""

from __future__ import annotations

from app.playbooks.kitchens.rules_control import ASSIGNED, UNPROCESSED, blocked, own_stage
from app.rules import actions as A
from app.rules.model import RESPONSIBLE_FIELD, STAGE_FIELD, Rule, RuleContext, on_created

# Sources that mean the lead came in by itself, not typed in by an employee.
AUTOMATIC_SOURCES = frozenset({"WEBFORM", "CALL", "EMAIL", "CALLBACK", "STORE", "WEB"})
CREATOR_FIELD = "createdBy"


def manual_creator(ctx: RuleContext) -> int | None:
    """The employee who typed the lead in, or None when it came in automatically."""
    record = ctx.record or {}
    creator = record.get(CREATOR_FIELD)
    source = str(record.get("sourceId") or "").upper()
    if not creator or source in AUTOMATIC_SOURCES or source.startswith(("OPENLINE", "UC_")):
        return None
    pool = {int(p) for p in ctx.settings.get("sos_pool_user_ids") or []}
    return None if int(creator) in pool else int(creator)


def to_creator(ctx: RuleContext) -> list[A.Action]:
    creator = manual_creator(ctx)
    if creator is None or blocked(ctx):
        return []
    record = ctx.record or {}
    rid = ctx.change.record_id
    out: list[A.Action] = []
    if int(record.get(RESPONSIBLE_FIELD) or 0) != creator:
        out.append(A.UpdateFields("lead", rid, {RESPONSIBLE_FIELD: creator}))
    # It has its manager from the start: «Менеджер назначен» (leaving «Не обработан» also
    # stops the SOS that rules_sos starts for every new unprocessed lead).
    if own_stage(ctx.schema, record.get(STAGE_FIELD)) == UNPROCESSED:
        out.append(A.MoveStage("lead", rid, ASSIGNED))
    return out


RULES = [Rule("assign_creator", "lead", on_created(), to_creator)]
