"""B2B (seed 003: «нельзя выйти из экрана сделки, пока не будет поставлена следующая
задача»): "no deal without a next step", seen from the deal itself.

* **Never had a step** — a new open b2b deal is checked ``default_followup_hours`` later
  (a durable timer): still open with no open activity, its responsible is told and the
  default follow-up to-do is planned (``rules_next_step.follow_up``).
* **Moved on without one** — a deal moved forward to a working stage with no open activity
  goes back to the stage it came from; the timeline and the responsible are told
  (``next_step_required_text``, ``{title}``). Closing stages (won, lost) need no next step.
  Activities are read in the event's own batch (``deal_open_activities``). The portal cannot
  refuse the move itself, so the app undoes it at once, as it does for the sample photo.

An open task bound to the deal is a next step too, and so is the stage task the app itself
gives a stage on entry (``rules_stage_tasks``): a move into such a stage never goes back
for want of a step, since the same change plans one.
"""

from __future__ import annotations

from datetime import timedelta

from app.playbooks.b2b.rules_next_step import follow_up
from app.rules import actions as A
from app.rules.model import (
    RESPONSIBLE_FIELD,
    STAGE_FIELD,
    Rule,
    RuleContext,
    on_created,
    on_stage_entered,
    on_timer,
)
from app.sync.fetch import DEAL_OPEN_ACTIVITIES
from app.sync.tasks import OPEN_TASKS
from app.timers import handlers
from app.timers.calendars import work_calendar
from app.timers.steps import render

KIND = "b2b.next_step_check"
handlers.register_kind(KIND)


def _pipelines() -> list[list[str]]:
    from app.playbooks.b2b import COLD, REPEAT, SALES

    return [[s.code for s in p.stages if not s.semantics] for p in (SALES, REPEAT, COLD)]


def _working(stage: str) -> bool:
    return any(stage in codes for codes in _pipelines())


def _forward(stage_from: str | None, stage_to: str) -> bool:
    for codes in _pipelines():
        if stage_to in codes and stage_from in codes:
            return codes.index(stage_to) > codes.index(stage_from)
    return False


def _has_step(ctx: RuleContext) -> bool:
    return bool(ctx.related.get(DEAL_OPEN_ACTIVITIES)) or bool(ctx.related.get(OPEN_TASKS))


def _stage_plans_a_task(stage: str) -> bool:
    """The stage task rule gives this stage's responsible a task on entry (its next step)."""
    from app.playbooks.b2b.rules_stage_tasks import STAGE_STEPS

    return stage in STAGE_STEPS


def plan_check(ctx: RuleContext) -> list[A.Action]:
    stage = str((ctx.record or {}).get(STAGE_FIELD) or "")
    if not _working(stage):
        return []
    hours = timedelta(hours=float(ctx.settings.get("default_followup_hours") or 24))
    due = work_calendar(ctx.settings).next_working_moment(ctx.now + hours)
    return [A.StartTimer(KIND, due, ("deal", ctx.change.record_id), {}, key="check")]


def check(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    if not _working(str(record.get(STAGE_FIELD) or "")) or _has_step(ctx):
        return []
    return follow_up(record, ctx.change.record_id, ctx.settings, ctx.now)


def moved_without_step(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    stage = str(record.get(STAGE_FIELD) or "")
    if stage != ctx.change.stage_to or not _working(stage):
        return []
    if not _forward(ctx.change.stage_from, stage) or _has_step(ctx):
        return []
    if _stage_plans_a_task(stage):
        return []
    rid = ctx.change.record_id
    text = render(str(ctx.settings.get("next_step_required_text") or ""), ctx).strip()
    out: list[A.Action] = [A.MoveStage("deal", rid, str(ctx.change.stage_from), key="back")]
    if text:
        out.append(A.TimelineComment("deal", rid, text, key="why"))
        who = record.get(RESPONSIBLE_FIELD)
        if who:
            out.append(A.Notify((int(who),), text, key="told"))
    return out


_NEEDS = (DEAL_OPEN_ACTIVITIES, OPEN_TASKS)
RULES = [
    Rule("next_step_new_deal", "deal", on_created(), plan_check),
    Rule("next_step_check", "deal", on_timer(KIND), check, needs=_NEEDS),
    Rule(
        "next_step_on_move",
        "deal",
        on_stage_entered(),
        moved_without_step,
        needs=_NEEDS,
    ),
]
