"""The injectable clock. Code that needs "now" takes a :class:`Clock`; tests pass a
:class:`ManualClock` and move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


class SystemClock:
    """Wall-clock time, optionally shifted by ``offset`` (the e2e tests run the clock
    process "three hours later" this way; production never sets it)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = moment.astimezone(UTC)
        return self._now


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant for ``--now``; a value without a zone is rejected (ambiguous)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not an ISO-8601 time: {text!r}") from exc
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; add Z or +03:00")
    return value.astimezone(UTC)
