"""Kitchens work plan (spec §3 rules 7 and 10): tasks with deadlines and checklists per stage.

* «Клиент наш» → the manager: prepare and send the catalogue and the proposal (1 working day).
* «Каталог и КП отправлены» → the manager: follow up ``followup_working_days`` working days on
  (or the proposal task closed, whichever comes first: ``rules_tasks``).
* «Дата следующего контакта» → the client is told the date; a task waits for it.
* The measurement steps (24-hour confirmation, measurer's visit) are in
  ``rules_measurement``; the steps started by a closed task (follow-up, final proposal) in
  ``rules_tasks``; all use the helpers here. Every task is tagged ``kitchens.<step>``.

The deadline, date and move helpers are the generic work plan's (``app.rules.work_plan``).
Task titles and checklists are the ``stage_tasks`` setting (defaults: today's texts,
``WORK_PLAN_TEXTS``); the older ``stage_checklists`` still overrides a step's checklist. A step whose task is still open is not asked for twice: its task is
moved (:func:`open_task`, :func:`move_task`) — a new contact date moves the waiting task. Stage work runs on forward moves only and never while the lead is
blocked by the error control (``rules_control.blocked``/``forward``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.playbooks.kitchens import WORK_PLAN_TEXTS
from app.playbooks.kitchens.rules_control import (
    NEXT_CONTACT,
    PROPOSAL,
    QUALIFIED,
    blocked,
    forward,
    own_stage,
)
from app.rules import actions as A
from app.rules.model import (
    RESPONSIBLE_FIELD,
    STAGE_FIELD,
    Rule,
    RuleContext,
    on_field_changed,
    on_stage_entered,
)
from app.rules.work_plan import calendar, move_task, open_task_tagged, when
from app.sync.tasks import OPEN_TASKS
from app.timers.steps import render

CONFIRM_TIMER = "kitchens.confirm_measurement"
MEASURE_AT, MEASURER, CONFIRMED = (
    "UF_CRM_KT_MEASURE_AT",
    "UF_CRM_KT_MEASURER",
    "UF_CRM_KT_MEASURE_OK",
)
NEXT_DATE = "UF_CRM_KT_NEXT_CONTACT"

# key → (title, working days to the deadline, checklist); the texts are the defaults of the
# ``stage_tasks`` setting (``app.playbooks.kitchens.WORK_PLAN_TEXTS``), the days stay here.
DAYS: Mapping[str, int] = {
    "proposal": 1,
    "followup": 2,
    "confirm": 0,
    "measurer": 0,
    "final": 1,
    "next_contact": 0,
}
PLAN: Mapping[str, tuple[str, int, tuple[str, ...]]] = {
    key: (str(texts["title"]), DAYS[key], tuple(texts["checklist"]))
    for key, texts in WORK_PLAN_TEXTS.items()
}


def _custom(settings: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    step = (settings.get("stage_tasks") or {}).get(key)
    return step if isinstance(step, Mapping) else {}


def title(settings: Mapping[str, Any], key: str) -> str:
    """Step ``key``'s task title: the portal's ``stage_tasks`` wording, else today's."""
    return str(_custom(settings, key).get("title") or "").strip() or PLAN[key][0]


def checklist(settings: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """``stage_checklists`` (the older per-step override) first, then ``stage_tasks``."""
    custom = (settings.get("stage_checklists") or {}).get(key) or _custom(settings, key).get(
        "checklist"
    )
    return tuple(str(i) for i in custom) if custom else PLAN[key][2]


def task(ctx: RuleContext, key: str, who: Any, deadline: datetime, **extra: Any) -> A.CreateTask:
    """The plan step ``key`` as a task on the lead the change is about."""
    return lead_task(ctx.settings, key, ctx.change.record_id, ctx.record, who, deadline, **extra)


def lead_task(
    settings: Mapping[str, Any],
    key: str,
    lead_id: int,
    lead: Mapping[str, Any] | None,
    who: Any,
    deadline: datetime,
    **extra: Any,
) -> A.CreateTask:
    """The plan step ``key`` as a task bound to lead ``lead_id``, tagged ``kitchens.<key>``
    (the completion rules of ``rules_tasks`` know the step by the tag)."""
    return A.CreateTask(
        f"{title(settings, key)}: {(lead or {}).get('title') or lead_id}",
        int(who),
        deadline=deadline,
        checklist=checklist(settings, key),
        bind_to=("lead", lead_id),
        key=key,
        tag=tag(key),
        **extra,
    )


def tag(key: str) -> str:
    return f"kitchens.{key}"


def once(key: str, lead_id: int) -> str:
    """The portal-wide idempotency key of a step that must exist once per lead although
    two facts may start it (a stage move and the closing of the previous task)."""
    return f"kitchens.plan:{key}:lead:{int(lead_id)}"


def manager(ctx: RuleContext) -> Any:
    return (ctx.record or {}).get(RESPONSIBLE_FIELD)


def _stage_ok(ctx: RuleContext) -> bool:
    return bool(manager(ctx)) and forward(ctx) and not blocked(ctx)


def on_qualified(ctx: RuleContext) -> list[A.Action]:
    if not _stage_ok(ctx):
        return []
    due = calendar(ctx.settings).add_working(ctx.now, PLAN["proposal"][1])
    return [task(ctx, "proposal", manager(ctx), due)]


def on_proposal(ctx: RuleContext) -> list[A.Action]:
    if not _stage_ok(ctx):
        return []
    return [followup(ctx.settings, ctx.change.record_id, ctx.record, manager(ctx), ctx.now)]


def followup(
    settings: Mapping[str, Any], lead_id: int, lead: Any, who: Any, now: datetime
) -> A.CreateTask:
    """The follow-up call ``followup_working_days`` after the proposal went out — once per
    lead, whether the move to «Каталог и КП отправлены» or the closed proposal task (the
    seed does both, in either order) comes first."""
    days = int(settings.get("followup_working_days") or PLAN["followup"][1])
    due = calendar(settings).add_working(now, days)
    return lead_task(settings, "followup", lead_id, lead, who, due, once=once("followup", lead_id))


def open_task(tasks: Any, key: str) -> dict[str, Any] | None:
    """The newest open task of plan step ``key`` among ``tasks`` (the ``OPEN_TASKS`` need:
    the record's open tasks of the app), or None."""
    return open_task_tagged(tasks, tag(key))


def on_pause(ctx: RuleContext) -> list[A.Action]:
    """«Дата следующего контакта»: the client hears the date of the next call and of the
    measurement (seed 002: «проинформирует клиента о планируемых датах следующего звонка и
    замера») — setting ``pause_sms`` with ``{date}`` and ``{measurement}``: the booked visit
    («{dd.mm.yyyy} в {HH:MM}») or, with none booked, ``pause_no_measurement_text``. A task
    waits for the date (the lead's open waiting task, when it has one, is moved instead)."""
    record = ctx.record or {}
    moment = when(record.get(NEXT_DATE), ctx.settings)
    if not manager(ctx) or blocked(ctx) or moment is None:
        return []
    rid = ctx.change.record_id
    tz = calendar(ctx.settings).tz
    local = moment.astimezone(tz)
    visit = when(record.get(MEASURE_AT), ctx.settings)
    if visit is not None:
        at = visit.astimezone(tz)
        measurement = f"{at:%d.%m.%Y} в {at:%H:%M}"
    else:
        measurement = render(str(ctx.settings.get("pause_no_measurement_text") or ""), ctx)
    text = render(
        str(ctx.settings.get("pause_sms") or ""),
        ctx,
        date=f"{local:%d.%m.%Y}",
        measurement=measurement.strip(),
    ).strip()
    out: list[A.Action] = []
    if text:
        out.append(A.MessageClient("sms", ("lead", rid), "Следующий контакт", text, key="sms"))
    waiting = open_task(ctx.related.get(OPEN_TASKS), "next_contact")
    if waiting is None:
        return [*out, task(ctx, "next_contact", manager(ctx), moment)]
    moved = move_task(waiting, ctx.settings, moment, manager(ctx))
    return [*out, *moved] if moved else []


def on_pause_moved(ctx: RuleContext) -> list[A.Action]:
    """A new «Дата следующего контакта» while the lead waits: the client hears the new date
    and the waiting task moves to it. (Entering the stage with the date in the same save is
    ``on_pause``'s, not a move.)"""
    stage = own_stage(ctx.schema, (ctx.record or {}).get(STAGE_FIELD))
    before = own_stage(ctx.schema, (ctx.change.before or {}).get(STAGE_FIELD))
    if stage != NEXT_CONTACT or before != NEXT_CONTACT:
        return []
    return on_pause(ctx)


RULES = [
    Rule("plan_proposal", "lead", on_stage_entered(QUALIFIED), on_qualified),
    Rule("plan_followup", "lead", on_stage_entered(PROPOSAL), on_proposal),
    Rule("plan_pause", "lead", on_stage_entered(NEXT_CONTACT), on_pause, needs=(OPEN_TASKS,)),
    Rule(
        "plan_pause_moved",
        "lead",
        on_field_changed(NEXT_DATE),
        on_pause_moved,
        needs=(OPEN_TASKS,),
    ),
]
