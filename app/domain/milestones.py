"""Date rules of the deal pipelines: deferred demand (metal), delay SMS and automatic
success (furniture), mandatory refusal reasons (furniture, kitchens, eshop)."""

from __future__ import annotations

import calendar as _cal
from datetime import date, datetime, timedelta

__all__ = [
    "add_months",
    "is_deferred_demand",
    "delay_notice_due",
    "auto_success_due",
    "refusal_reason_problem",
]


def add_months(day: date, months: int) -> date:
    """Calendar months later, clamping the day: 31 Aug + 6 months = 28/29 Feb.

    >>> add_months(date(2026, 8, 31), 6)
    datetime.date(2027, 2, 28)
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, _cal.monthrange(year, month)[1]))


def is_deferred_demand(planned_start: date | None, today: date, months: int = 6) -> bool:
    """Metal deal rule 1: construction planned to start more than ``months`` after today.
    Unknown start → False (nothing to defer on)."""
    return planned_start is not None and planned_start > add_months(today, months)


def delay_notice_due(due_date: date, notice: timedelta = timedelta(days=7)) -> date:
    """Furniture: the date the client gets the "manufacturing delayed" SMS (a week before)."""
    return due_date - notice


def auto_success_due(handed_over_at: datetime, after: timedelta = timedelta(days=3)) -> datetime:
    """Furniture: when a delivered / picked-up deal moves to «Сделка успешна» by itself."""
    return handed_over_at + after


def refusal_reason_problem(reason: object) -> str | None:
    """Russian problem text when a failure stage is entered without a reason, else None.
    A list value (multiple-choice field) counts when it has a non-empty item."""
    items = reason if isinstance(reason, list | tuple) else [reason]
    if any(item is not None and str(item).strip() for item in items):
        return None
    return "Укажите причину отказа: без неё сделку (лид) нельзя закрыть как провал"
