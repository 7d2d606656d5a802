"""Working-hours calendar in the portal's time zone.

"Notify after 3 hours" or "follow up in 2 working days" skip nights, weekends and holidays.
All inputs must be timezone-aware (naive datetimes are ambiguous and rejected); results are
aware datetimes in the calendar's zone. Working hours are [work_start, work_end) each working
day; wall-clock arithmetic is used inside a day (DST changes happen at night in practice).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["WorkCalendar"]


@dataclass(frozen=True)
class WorkCalendar:
    """``workdays`` are ISO weekdays 1 (Mon) … 7 (Sun); ``extra_workdays`` are dates that are
    working despite being weekends (Russian transferred Saturdays); ``holidays`` never work."""

    tz: ZoneInfo
    work_start: time = time(9, 0)
    work_end: time = time(18, 0)
    workdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if isinstance(self.tz, str):
            object.__setattr__(self, "tz", ZoneInfo(self.tz))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "extra_workdays", frozenset(self.extra_workdays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        if not self.work_start < self.work_end:
            raise ValueError("work_start must be before work_end")
        if not self.workdays <= set(range(1, 8)):
            raise ValueError("workdays are ISO weekdays 1..7")
        if not self.workdays and not self.extra_workdays:
            raise ValueError("a calendar needs working days")

    # -- days ------------------------------------------------------------------------------
    def is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        return day in self.extra_workdays or day.isoweekday() in self.workdays

    def _next_working_day(self, day: date) -> date:
        for _ in range(3660):  # ten years without a working day means a broken calendar
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError("no working day within ten years")

    def _at(self, day: date, t: time) -> datetime:
        return datetime.combine(day, t, tzinfo=self.tz)

    def _local(self, dt: datetime) -> datetime:
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError("naive datetime: pass an aware datetime")
        return dt.astimezone(self.tz)

    # -- moments ---------------------------------------------------------------------------
    def is_working(self, dt: datetime) -> bool:
        """True when ``dt`` falls within working hours of a working day."""
        local = self._local(dt)
        return self.is_working_day(local.date()) and self.work_start <= local.time() < self.work_end

    def next_working_moment(self, dt: datetime) -> datetime:
        """``dt`` itself when working, else the start of the next working period."""
        local = self._local(dt)
        day = local.date()
        if self.is_working_day(day):
            if local.time() < self.work_start:
                return self._at(day, self.work_start)
            if local.time() < self.work_end:
                return local
        return self._at(self._next_working_day(day), self.work_start)

    def add_working(self, start: datetime, amount: timedelta | int) -> datetime:
        """Add working time (timedelta) or whole working days (int) to ``start``.

        Time: counting starts at the next working moment; a result exactly at work_end stays
        there ("by 18:00"). Days: the same local time ``amount`` working days later, counted
        from the next working moment (so Friday 20:00 + 1 day = Tuesday 09:00).

        >>> cal = WorkCalendar(ZoneInfo("Europe/Moscow"))
        >>> cal.add_working(datetime(2026, 1, 16, 16, 0, tzinfo=cal.tz), timedelta(hours=3))
        datetime.datetime(2026, 1, 19, 10, 0, tzinfo=zoneinfo.ZoneInfo(key='Europe/Moscow'))
        """
        if isinstance(amount, bool) or not isinstance(amount, int | timedelta):
            raise TypeError("amount must be a timedelta or an int number of working days")
        moment = self.next_working_moment(start)
        if isinstance(amount, int):
            if amount < 0:
                raise ValueError("amount must not be negative")
            day = moment.date()
            for _ in range(amount):
                day = self._next_working_day(day)
            return self._at(day, moment.time())
        if amount < timedelta(0):
            raise ValueError("amount must not be negative")
        remaining = amount
        while True:
            available = self._at(moment.date(), self.work_end) - moment
            if remaining <= available:
                return moment + remaining
            remaining -= available
            moment = self._at(self._next_working_day(moment.date()), self.work_start)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time elapsed from ``start`` to ``end`` (zero when end ≤ start)."""
        a, b = self._local(start), self._local(end)
        total = timedelta(0)
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                lo = max(a, self._at(day, self.work_start))
                hi = min(b, self._at(day, self.work_end))
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    @classmethod
    def from_settings(
        cls,
        tz: str,
        work_start: str = "09:00",
        work_end: str = "18:00",
        workdays: Iterable[int] = (1, 2, 3, 4, 5),
        holidays: Iterable[str] = (),
        extra_workdays: Iterable[str] = (),
    ) -> WorkCalendar:
        """Build from settings strings ("09:00", ISO dates "2026-01-07"); raises ValueError."""
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
        return cls(
            zone,
            time.fromisoformat(work_start),
            time.fromisoformat(work_end),
            frozenset(workdays),
            frozenset(date.fromisoformat(d) for d in holidays),
            frozenset(date.fromisoformat(d) for d in extra_workdays),
        )
