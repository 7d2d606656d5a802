"""Date and datetime values the way the portal stores and prints them (protocol doc §9.1).

Stored form: datetimes as float unix timestamps, dates as ``"YYYY-MM-DD"`` strings.
Printed form: ISO 8601 in the portal's offset; a date prints as midnight UTC of that day
shown in the portal's offset (``2000-01-01T02:00:00+02:00`` on a ``+02:00`` portal).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def tz_of(offset: str) -> timezone:
    m = _OFFSET.match(offset or "+00:00")
    if not m:
        return UTC
    delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
    return timezone(-delta if m.group(1) == "-" else delta)


def iso(ts: float | None, offset: str) -> str | None:
    """A stored timestamp as ``2024-01-31T12:00:00+03:00`` (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(int(ts), tz_of(offset)).isoformat()


def iso_date(day: str | None, offset: str) -> str | None:
    """A stored ``YYYY-MM-DD`` as the portal prints a date field."""
    if not day:
        return None
    midnight = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
    return midnight.astimezone(tz_of(offset)).isoformat()


def parse_datetime(value: object, offset: str) -> float:
    """ISO 8601 (with or without offset; date-only means local midnight) → timestamp.

    Raises ValueError for anything else; values without an offset are portal-local time.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if not text:
        raise ValueError("empty datetime")
    text = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", text) else text
    parsed = _parse_portal_format(text) or datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz_of(offset))
    return parsed.timestamp()


def _parse_portal_format(text: str) -> datetime | None:
    """``31.01.2024`` / ``31.01.2024 12:00:00`` (the portal's own display format)."""
    m = re.match(r"^(\d{2})\.(\d{2})\.(\d{4})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$", text)
    if not m:
        return None
    d, mo, y, h, mi, s = m.groups()
    return datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))


def parse_date(value: object, offset: str) -> str:
    """Any accepted date/datetime input → ``YYYY-MM-DD`` (the date part as written)."""
    text = str(value).strip()
    m = re.match(r"^(\d{4}-\d{2}-\d{2})", text)
    if m:
        date.fromisoformat(m.group(1))  # validates
        return m.group(1)
    parsed = _parse_portal_format(text)
    if parsed is None:
        raise ValueError(f"not a date: {text!r}")
    return parsed.date().isoformat()


def day_of(ts: float, offset: str) -> str:
    """The portal-local calendar day of a timestamp."""
    return datetime.fromtimestamp(ts, tz_of(offset)).date().isoformat()
