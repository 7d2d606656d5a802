"""The measurers' calendar for the «Замер» tab: every slot of a day range, free or taken.

``app.booking.service.free_slots`` answers "the next N free slots"; a calendar needs the
whole grid of a day or a week so a manager sees what is taken too. The grid is the one the
booking API offers (working hours of the portal's kitchens calendar, one slot per
``measurement_hours``); a slot overlapping an active booking is ``busy`` — or ``this_lead``
when the booking is the viewed lead's, so the page can offer to move it. Nothing about other
leads (their ids, addresses) leaves the store: a busy slot is only "busy".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.booking.service import Policy
from app.store import bookings as store

FREE, BUSY, THIS_LEAD, PAST = "free", "busy", "this_lead", "past"
MAX_DAYS = 14


@dataclass(frozen=True)
class Cell:
    measurer_id: int
    start: datetime
    end: datetime
    state: str
    booking_id: int | None = None  # only for THIS_LEAD


@dataclass(frozen=True)
class Day:
    day: date
    working: bool
    cells: list[Cell]


def grid(
    session,
    member_id: str,
    policy: Policy,
    first: date,
    days: int,
    now: datetime,
    lead_id: int | None = None,
) -> list[Day]:
    """``days`` (1…MAX_DAYS) calendar days from ``first`` in the portal's kitchens time zone,
    each with every measurer's slots ordered by start then measurer."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1…{MAX_DAYS}")
    cal = policy.calendar
    since = datetime.combine(first, cal.work_start, tzinfo=cal.tz)
    until = datetime.combine(first + timedelta(days=days), cal.work_start, tzinfo=cal.tz)
    taken = store.active_between(session, member_id, since - timedelta(days=1), until)
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        working = cal.is_working_day(day)
        cells = []
        if working:
            for measurer in sorted(set(policy.measurers)):
                cells += _day_cells(day, measurer, policy, taken, now, lead_id)
        cells.sort(key=lambda c: (c.start, c.measurer_id))
        out.append(Day(day, working, cells))
    return out


def _day_cells(day, measurer, policy, taken, now, lead_id) -> list[Cell]:
    cal = policy.calendar
    start = datetime.combine(day, cal.work_start, tzinfo=cal.tz)
    close = datetime.combine(day, cal.work_end, tzinfo=cal.tz)
    mine = [b for b in taken if b.measurer_id == measurer]
    cells = []
    while start + policy.length <= close:
        end = start + policy.length
        hit = next((b for b in mine if b.start < end and b.end > start), None)
        if hit is not None and lead_id is not None and hit.lead_id == lead_id:
            cells.append(Cell(measurer, start, end, THIS_LEAD, hit.id))
        elif hit is not None:
            cells.append(Cell(measurer, start, end, BUSY))
        elif start < now:
            cells.append(Cell(measurer, start, end, PAST))
        else:
            cells.append(Cell(measurer, start, end, FREE))
        start = end
    return cells
