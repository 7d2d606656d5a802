"""The work calendar a timer rule uses, from the playbook's settings.

A rule whose durations may mean working hours passes its own flag setting (e.g.
``escalation_working_hours``); when it is true the durations skip nights, weekends and
``holidays`` in the portal's ``time_zone`` (defaults: Europe/Moscow, 09:00–18:00, Mon–Fri).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.domain.calendar import WorkCalendar

DEFAULT_TZ = "Europe/Moscow"


def calendar_for(settings: Mapping[str, Any], flag: str) -> WorkCalendar | None:
    """The portal's work calendar when ``settings[flag]`` is true, else None (clock time).
    Raises ValueError for a bad zone, time or date in the settings."""
    if not settings.get(flag):
        return None
    return work_calendar(settings)


def work_calendar(settings: Mapping[str, Any]) -> WorkCalendar:
    """The portal's work calendar from the playbook's calendar settings (always)."""
    return WorkCalendar.from_settings(
        tz=str(settings.get("time_zone") or DEFAULT_TZ),
        work_start=str(settings.get("work_start") or "09:00"),
        work_end=str(settings.get("work_end") or "18:00"),
        workdays=tuple(settings.get("workdays") or (1, 2, 3, 4, 5)),
        holidays=tuple(settings.get("holidays") or ()),
        extra_workdays=tuple(settings.get("extra_workdays") or ()),
    )
