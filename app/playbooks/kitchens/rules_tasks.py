"""Kitchens work plan, part two: closing one task creates the next (spec §3 rule 7, seed 002).

The seed's chain, as the tasks the app created are closed (``on_task_completed`` on the tag
``rules_workplan`` gave each task; the lead is the task's CRM binding, read from the mirror):

* the proposal task («Подготовить и отправить каталог и КП») closed → the follow-up call
  ``followup_working_days`` later — once per lead: the manager also moves the lead to
  «Каталог и КП отправлены», which asks for the same task (``rules_workplan.followup``);
* the measurer's visit («Замер») closed → the manager's final proposal, due one working day
  later — once per lead, even when a rescheduled visit left a second measurer task.

The final proposal closes only with an outcome (seed 002: «Задача закрывается только в
случае …»): the lead agreed, lost (the error control already demands the reason) or
paused. Closed while the lead is anywhere else, the task comes back — the same task renewed
(``tasks.task.renew``), due one working day later — and the manager is told why
(``final_task_reopen_text``), on the task's lead timeline too.

The confirmation task is not a link of this chain: the measurer's task follows the ticked
«Замер подтверждён» (closing the confirmation task may as well mean "the client moved it").
Nothing follows for a lead that is closed (agreed/lost), has no responsible, or is blocked
by the error control.
"""

from __future__ import annotations

from typing import Any

from app.playbooks.kitchens.rules_control import AGREED, LOST, NEXT_CONTACT, own_stage, problems
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
from app.timers.steps import render


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


OUTCOMES = (AGREED, LOST, NEXT_CONTACT)


def final_closed(ctx: RuleContext) -> list[A.Action]:
    """The final proposal closed without an outcome on the lead: it comes back."""
    bound = ctx.related.get(BOUND)
    if not bound or bound.get("entity") != "lead" or not bound.get("record"):
        return []
    lead = dict(bound["record"])
    if own_stage(ctx.schema, lead.get(STAGE_FIELD)) in OUTCOMES:
        return []
    who = lead.get(RESPONSIBLE_FIELD)
    if not who:
        return []
    lead_id = int(bound["id"])
    due = calendar(ctx.settings).add_working(ctx.now, PLAN["final"][1])
    task = ctx.record or {}
    handed = int(who) if str(who) != str(task.get("responsibleId") or "") else None
    # every closing is its own (the change's cause is one per task, "task:completed"): the
    # task's closing moment tells a second closing after a renewal from a replay of the first
    closing = str(task.get("closedDate") or task.get("updatedTime") or "")
    # the same task renewed (tasks.task.renew, api-reference/tasks/tasks-task-renew.md) with
    # a new deadline: its history and checklist stay, no second final-proposal task appears
    again = A.UpdateTask(
        ctx.change.record_id,
        deadline=due,
        responsible_id=handed,
        renew=True,
        key=f"renew@{closing}",
    )
    text = render(
        str(ctx.settings.get("final_task_reopen_text") or ""),
        ctx,
        lead=lead.get("title") or lead_id,
    ).strip()
    out: list[A.Action] = [again]
    if text:
        out += [
            A.Notify((int(who),), text, key=f"told@{closing}"),
            A.TimelineComment("lead", lead_id, text, key=f"note@{closing}"),
        ]
    return out


RULES = [
    Rule(
        "final_needs_outcome",
        TASK_ENTITY,
        on_task_completed(tag("final")),
        final_closed,
        needs=(BOUND,),
    ),
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
