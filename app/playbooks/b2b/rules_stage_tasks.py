"""B2B (seed 003: «автозадачи, к каждой из которых прикладывался чек-лист»): a task with a
checklist for every stage that has one, for managers (sales, repeat sales) and field reps
(cold sales) alike.

Setting ``stage_checklists``: stage code → ``{"title": …, "items": […], "hours": N}`` (or
just the list of items). Entering such a stage gives the deal's responsible a task bound to
the deal, due ``hours`` later (default ``default_followup_hours``), moved into working time.
``{title}`` in a title or item is the deal's title. A stage missing from the table, or with
an empty list, gets no task; the defaults cover the working stages of the three pipelines.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from app.rules import actions as A
from app.rules.model import RESPONSIBLE_FIELD, STAGE_FIELD, Rule, RuleContext, on_stage_entered
from app.timers.calendars import work_calendar
from app.timers.steps import render

DEFAULT_TITLE = "Этап «{stage}»: {title}"


def _entry(settings: Mapping[str, Any], stage: str) -> tuple[str, tuple[str, ...], float | None]:
    table = settings.get("stage_checklists") or {}
    raw = table.get(stage) if isinstance(table, Mapping) else None
    if isinstance(raw, list):
        return DEFAULT_TITLE, tuple(str(i) for i in raw if str(i).strip()), None
    if not isinstance(raw, Mapping):
        return DEFAULT_TITLE, (), None
    items = tuple(str(i) for i in raw.get("items") or () if str(i).strip())
    try:
        hours = float(raw["hours"]) if raw.get("hours") not in (None, "") else None
    except (TypeError, ValueError):
        hours = None
    return str(raw.get("title") or DEFAULT_TITLE), items, hours


def _stage_name(code: str) -> str:
    from app.playbooks.b2b import PLAYBOOK

    for spec in PLAYBOOK.all_stages():
        if spec.code == code:
            return spec.name.ru
    return code


def stage_task(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    stage = str(record.get(STAGE_FIELD) or "")
    if stage != ctx.change.stage_to and stage not in ctx.change.stage_to_codes:
        return []  # it moved on again since: that change gives its own task
    title, items, hours = _entry(ctx.settings, stage)
    who = record.get(RESPONSIBLE_FIELD)
    if not items or not who:
        return []
    wait = hours if hours is not None else float(ctx.settings.get("default_followup_hours") or 24)
    due = work_calendar(ctx.settings).next_working_moment(ctx.now + timedelta(hours=wait))
    rid = ctx.change.record_id
    return [
        A.CreateTask(
            render(title, ctx, stage=_stage_name(stage)),
            int(who),
            deadline=due,
            checklist=tuple(render(i, ctx) for i in items),
            bind_to=("deal", rid),
            tag=f"b2b.stage:{stage}",
            key="stage_task",
        )
    ]


def _working_stages() -> tuple[str, ...]:
    from app.playbooks.b2b import COLD, REPEAT, SALES

    return tuple(s.code for p in (SALES, REPEAT, COLD) for s in p.stages if not s.semantics)


RULES = [Rule("stage_task", "deal", on_stage_entered(*_working_stages()), stage_task)]
