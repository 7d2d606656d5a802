"""Work plans: a task with a deadline and a checklist per step, the next step when one is
closed, and the open task moved — not doubled — when its date changes.

The machinery the kitchens playbook introduced (seed 002, «автозадачи с чек-листами»), for
any playbook: a :class:`WorkPlan` is data (steps with a title, working days to the
deadline, a checklist and the step that follows it) plus the settings that override it
(``stage_checklists``: step → checklist; ``stage_tasks``: step → ``{"title", "days",
"checklist", "then"}``). Every task is tagged ``<playbook>.<step>``, which is how the
completion rules (``on_task_completed(tag)``) and :func:`open_task` know the step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any

from app.domain.calendar import WorkCalendar
from app.rules import actions as A
from app.timers.calendars import work_calendar


def calendar(settings: Mapping[str, Any]) -> WorkCalendar:
    return work_calendar(settings)


def when(value: Any, settings: Mapping[str, Any]) -> datetime | None:
    """A date/datetime field's value as an aware datetime (a bare date: start of work)."""
    if value in (None, ""):
        return None
    if isinstance(value, str) and len(value.strip()) == 10:
        try:  # a date field ("2026-12-01"): the start of that working day
            value = date.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time.fromisoformat(settings.get("work_start") or "09:00"))
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=calendar(settings).tz)
    return moment


def open_task_tagged(tasks: Any, tag: str) -> dict[str, Any] | None:
    """The newest open task tagged ``tag`` among ``tasks`` (the ``OPEN_TASKS`` need)."""
    found = [t for t in tasks or () if t.get("tag") == tag]
    return found[-1] if found else None


def move_task(
    found: Mapping[str, Any], settings: Mapping[str, Any], deadline: datetime, who: Any = None
) -> list[A.Action]:
    """Move task ``found`` to ``deadline`` (and hand it to ``who``); [] when it already is
    there — a replayed change or our own update's echo does not write again."""
    due = None if when(found.get("deadline"), settings) == deadline else deadline
    owner = int(who) if who and str(who) != str(found.get("responsibleId") or "") else None
    if due is None and owner is None:
        return []
    return [A.UpdateTask(int(found["id"]), deadline=due, responsible_id=owner)]


@dataclass(frozen=True)
class Step:
    title: str
    days: int  # working days from now to the deadline
    checklist: tuple[str, ...]
    then: str = ""  # the step whose task follows when this one is closed


@dataclass(frozen=True)
class WorkPlan:
    playbook: str
    entity: str
    steps: Mapping[str, Step]

    def step(self, settings: Mapping[str, Any], key: str) -> Step:
        """Step ``key`` with the portal's overrides applied (KeyError for unknown steps)."""
        base = self.steps[key]
        custom = (settings.get("stage_tasks") or {}).get(key)
        if isinstance(custom, Mapping):
            base = replace(
                base,
                title=str(custom.get("title") or base.title),
                days=int(custom.get("days", base.days)),
                checklist=tuple(str(i) for i in custom.get("checklist") or base.checklist),
                then=str(custom.get("then", base.then) or ""),
            )
        items = (settings.get("stage_checklists") or {}).get(key)
        return replace(base, checklist=tuple(str(i) for i in items)) if items else base

    def tag(self, key: str) -> str:
        return f"{self.playbook}.{key}"

    def once(self, key: str, record_id: int) -> str:
        """The portal-wide key of a step that must exist once per record although two facts
        may start it (a stage move and the closing of the previous task)."""
        return f"{self.playbook}.plan:{key}:{self.entity}:{int(record_id)}"

    def due(self, settings: Mapping[str, Any], key: str, now: datetime) -> datetime:
        return calendar(settings).add_working(now, self.step(settings, key).days)

    def task(
        self,
        settings: Mapping[str, Any],
        key: str,
        record_id: int,
        record: Mapping[str, Any] | None,
        who: Any,
        deadline: datetime,
        **extra: Any,
    ) -> A.CreateTask:
        """Step ``key`` as a task bound to the record, tagged ``<playbook>.<key>``."""
        step = self.step(settings, key)
        return A.CreateTask(
            f"{step.title}: {(record or {}).get('title') or record_id}",
            int(who),
            deadline=deadline,
            checklist=step.checklist,
            bind_to=(self.entity, record_id),
            key=key,
            tag=self.tag(key),
            **extra,
        )

    def open_task(self, tasks: Any, key: str) -> dict[str, Any] | None:
        return open_task_tagged(tasks, self.tag(key))
