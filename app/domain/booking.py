"""Measurers' schedules (kitchens «Замер назначен», spec §3 rule 9).

A measurement takes a slot (default 3 h) inside working hours of one working day; a measurer
never has two overlapping bookings. Slots are offered on a grid from work_start with a
configurable step (default: the slot length). Bookings are half-open intervals [start, end).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from app.domain.calendar import WorkCalendar

__all__ = [
    "DEFAULT_SLOT",
    "Booking",
    "Slot",
    "BookingError",
    "conflicts",
    "check_booking",
    "book",
    "reschedule",
    "free_slots",
    "next_free_slots",
    "confirmation_due",
]

DEFAULT_SLOT = timedelta(hours=3)


@dataclass(frozen=True)
class Booking:
    id: str
    measurer_id: int
    start: datetime
    end: datetime
    address: str = ""
    lead_id: int | None = None


@dataclass(frozen=True)
class Slot:
    measurer_id: int
    start: datetime
    end: datetime


class BookingError(ValueError):
    """The booking cannot be made; ``problems`` are Russian texts for the manager."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    return a_start < b_end and b_start < a_end


def conflicts(candidate: Booking, bookings: Iterable[Booking]) -> list[Booking]:
    """Bookings of the same measurer overlapping ``candidate`` (its own id excluded, so a
    reschedule does not conflict with the booking it moves)."""
    return [
        b
        for b in bookings
        if b.measurer_id == candidate.measurer_id
        and b.id != candidate.id
        and _overlaps(candidate.start, candidate.end, b.start, b.end)
    ]


def check_booking(
    candidate: Booking, bookings: Iterable[Booking], calendar: WorkCalendar, now: datetime
) -> list[str]:
    """Russian problems (empty = bookable): past, empty interval, outside working hours or
    across days, a double booking."""
    problems = []
    if candidate.end <= candidate.start:
        problems.append("Окончание замера должно быть позже начала")
    if candidate.start < now:
        problems.append("Нельзя назначить замер на прошедшее время")
    start = candidate.start.astimezone(calendar.tz)
    end = candidate.end.astimezone(calendar.tz)
    day_end = datetime.combine(start.date(), calendar.work_end, tzinfo=calendar.tz)
    if not calendar.is_working(start) or end > day_end:
        problems.append(
            f"Замер должен уложиться в рабочее время рабочего дня"
            f" ({calendar.work_start:%H:%M}–{calendar.work_end:%H:%M})"
        )
    for other in conflicts(candidate, bookings):
        problems.append(
            f"Замерщик занят {other.start.astimezone(calendar.tz):%d.%m.%Y %H:%M}–"
            f"{other.end.astimezone(calendar.tz):%H:%M} (бронь {other.id})"
        )
    return problems


def book(
    candidate: Booking, bookings: Iterable[Booking], calendar: WorkCalendar, now: datetime
) -> Booking:
    """Return ``candidate`` when bookable, else raise BookingError with every problem."""
    problems = check_booking(candidate, list(bookings), calendar, now)
    if problems:
        raise BookingError(problems)
    return candidate


def reschedule(
    booking: Booking,
    new_start: datetime,
    bookings: Iterable[Booking],
    calendar: WorkCalendar,
    now: datetime,
    measurer_id: int | None = None,
) -> Booking:
    """The booking moved to ``new_start`` (same length, same id, optionally another
    measurer); raises BookingError. The caller restarts the confirmation cycle."""
    moved = replace(
        booking,
        start=new_start,
        end=new_start + (booking.end - booking.start),
        measurer_id=booking.measurer_id if measurer_id is None else measurer_id,
    )
    return book(moved, bookings, calendar, now)


def free_slots(
    bookings: Iterable[Booking],
    measurer_id: int,
    day: date,
    calendar: WorkCalendar,
    slot: timedelta = DEFAULT_SLOT,
    step: timedelta | None = None,
    not_before: datetime | None = None,
) -> list[Slot]:
    """Free grid slots of one measurer on ``day`` (none on non-working days)."""
    if slot <= timedelta(0) or (step is not None and step <= timedelta(0)):
        raise ValueError("slot and step must be positive")
    if not calendar.is_working_day(day):
        return []
    step = step or slot
    busy = [b for b in bookings if b.measurer_id == measurer_id]
    start = datetime.combine(day, calendar.work_start, tzinfo=calendar.tz)
    close = datetime.combine(day, calendar.work_end, tzinfo=calendar.tz)
    out = []
    while start + slot <= close:
        end = start + slot
        if (not_before is None or start >= not_before) and not any(
            _overlaps(start, end, b.start, b.end) for b in busy
        ):
            out.append(Slot(measurer_id, start, end))
        start += step
    return out


def next_free_slots(
    bookings: Iterable[Booking],
    measurers: Iterable[int],
    after: datetime,
    calendar: WorkCalendar,
    n: int = 5,
    slot: timedelta = DEFAULT_SLOT,
    step: timedelta | None = None,
    horizon_days: int = 60,
) -> list[Slot]:
    """The first ``n`` free slots of any of ``measurers`` starting at or after ``after``,
    ordered by start then measurer id; searches ``horizon_days`` ahead at most."""
    bookings = list(bookings)
    measurers = sorted(set(measurers))
    out: list[Slot] = []
    day = after.astimezone(calendar.tz).date()
    for _ in range(horizon_days + 1):
        found = [
            s
            for m in measurers
            for s in free_slots(bookings, m, day, calendar, slot, step, not_before=after)
        ]
        out += sorted(found, key=lambda s: (s.start, s.measurer_id))
        if len(out) >= n:
            return out[:n]
        day += timedelta(days=1)
    return out


def confirmation_due(booking: Booking, lead: timedelta = timedelta(hours=24)) -> datetime:
    """When the manager's "confirm with the client" task is due (24 h before by default)."""
    return booking.start - lead
