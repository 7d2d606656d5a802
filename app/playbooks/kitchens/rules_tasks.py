"""Kitchens work plan, part two: closing one task creates the next (spec §3 rule 7, seed 002).

The seed's chain, as the tasks the app created are closed (``on_task_completed`` on the tag
``rules_workplan`` gave each task; the lead is the task's CRM binding, read from the mirror):

* the proposal task («Подготовить и отправить каталог и КП») closed → the follow-up call
  ``followup_working_days`` later — once per lead: the manager also moves the lead to
  «Каталог и КП отправлены», which asks for the same task (``rules_workplan.followup``);
* the measurer's visit («Замер») closed → the manager's final proposal, due one working day
  later — once per lead, even when a rescheduled visit left a second measurer task.

The confirmation task is not a link of this chain: the measurer's task follows the ticked
«Замер подтверждён» (closing the confirmation task may as well mean "the client moved it").
Nothing follows for a lead that is closed (agreed/lost), has no responsible, or is blocked
by the error control.
"""

from __future__ import annotations

from typing import Any

from app.playbooks.kitchens.rules_control import AGREED, LOST, own_stage, problems
from app.playbooks.kitchens.rules_workplan import PLAN, calendar, followup, lead_task, once, tag
from app.rules import actions as A
from app.rules.model import (
    RESPONSIBLE_FIELD,
    STAGE_FIELD,
    TASK_ENTITY,
    Rule,
    RuleContext,
    on_task_completed,
)
from app.sync.tasks import BOUND


def _lead(ctx: RuleContext) -> tuple[int, dict[str, Any]] | None:
    """The open, unblocked lead the closed task belongs to, with a responsible."""
    bound = ctx.related.get(BOUND)
    if not bound or bound.get("entity") != "lead" or not bound.get("record"):
        return None
    lead = dict(bound["record"])
    if own_stage(ctx.schema, lead.get(STAGE_FIELD)) in (AGREED, LOST):
        return None
    if not lead.get(RESPONSIBLE_FIELD) or problems(lead, schema=ctx.schema):
        return None
    return int(bound["id"]), lead


def after_proposal(ctx: RuleContext) -> list[A.Action]:
    found = _lead(ctx)
    if found is None:
        return []
    lead_id, lead = found
    return [followup(ctx.settings, lead_id, lead, lead[RESPONSIBLE_FIELD], ctx.now)]


def after_visit(ctx: RuleContext) -> list[A.Action]:
    found = _lead(ctx)
    if found is None:
        return []
    lead_id, lead = found
    due = calendar(ctx.settings).add_working(ctx.now, PLAN["final"][1])
    who = lead[RESPONSIBLE_FIELD]
    return [lead_task(ctx.settings, "final", lead_id, lead, who, due, once=once("final", lead_id))]


RULES = [
    Rule(
        "chain_followup",
        TASK_ENTITY,
        on_task_completed(tag("proposal")),
        after_proposal,
        needs=(BOUND,),
    ),
    Rule(
        "chain_final", TASK_ENTITY, on_task_completed(tag("measurer")), after_visit, needs=(BOUND,)
    ),
]
