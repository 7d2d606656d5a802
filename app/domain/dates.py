"""Reading the portal's date field values as dates (pure)."""

from __future__ import annotations

from datetime import date
from typing import Any


def as_date(value: Any) -> date | None:
    """A date field's value (``"2026-12-01"`` or ``"2026-12-01T00:00:00+03:00"``) as a date;
    None for an empty or unreadable value.

    >>> as_date("2026-12-01T00:00:00+03:00")
    datetime.date(2026, 12, 1)
    >>> as_date("") is None and as_date("soon") is None
    True
    """
    if value in (None, "", False):
        return None
    if isinstance(value, date):
        return value if type(value) is date else value.date()  # type: ignore[attr-defined]
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None
