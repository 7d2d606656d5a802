from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.domain.booking import (
    Booking,
    BookingError,
    book,
    check_booking,
    confirmation_due,
    conflicts,
    free_slots,
    next_free_slots,
    reschedule,
)
from app.domain.calendar import WorkCalendar

TZ = ZoneInfo("Europe/Moscow")
CAL = WorkCalendar(TZ)
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=TZ)  # Monday morning


def at(d, h, m=0):
    return datetime(2026, 3, d, h, m, tzinfo=TZ)


def bk(id_, measurer, d, h, hours=3):
    return Booking(id_, measurer, at(d, h), at(d, h) + timedelta(hours=hours), "Казань")


def hours(slots):
    return [(s.start.hour, s.end.hour) for s in slots]


def test_free_slots_default_three_hour_grid():
    assert hours(free_slots([], 1, date(2026, 3, 2), CAL)) == [(9, 12), (12, 15), (15, 18)]
    busy = [bk("a", 1, 2, 10), bk("b", 2, 2, 15)]
    assert hours(free_slots(busy, 1, date(2026, 3, 2), CAL)) == [(15, 18)]
    assert hours(free_slots(busy, 2, date(2026, 3, 2), CAL)) == [(9, 12), (12, 15)]


def test_free_slots_step_and_not_before_and_weekend():
    busy = [bk("a", 1, 2, 9)]
    one_hour = free_slots(busy, 1, date(2026, 3, 2), CAL, step=timedelta(hours=1))
    assert hours(one_hour) == [(12, 15), (13, 16), (14, 17), (15, 18)]
    late = free_slots([], 1, date(2026, 3, 2), CAL, not_before=at(2, 12, 30))
    assert hours(late) == [(15, 18)]
    assert free_slots([], 1, date(2026, 3, 7), CAL) == []  # Saturday
    with pytest.raises(ValueError):
        free_slots([], 1, date(2026, 3, 2), CAL, slot=timedelta(0))


def test_conflicts_are_half_open_and_per_measurer():
    existing = [bk("a", 1, 2, 9), bk("b", 2, 2, 12)]
    assert conflicts(bk("c", 1, 2, 12), existing) == []  # starts when "a" ends
    assert [b.id for b in conflicts(bk("c", 1, 2, 11), existing)] == ["a"]
    assert conflicts(bk("a", 1, 2, 10), existing) == []  # the booking itself, moved


def test_book_refuses_double_bookings_and_bad_times():
    existing = [bk("a", 1, 2, 9)]
    assert book(bk("c", 1, 2, 12), existing, CAL, NOW).id == "c"
    with pytest.raises(BookingError) as err:
        book(bk("c", 1, 2, 10), existing, CAL, NOW)
    assert err.value.problems == ["Замерщик занят 02.03.2026 09:00–12:00 (бронь a)"]
    problems = check_booking(bk("d", 1, 2, 16), [], CAL, NOW)
    assert problems == ["Замер должен уложиться в рабочее время рабочего дня (09:00–18:00)"]
    assert check_booking(bk("e", 1, 7, 10), [], CAL, NOW)  # Saturday
    past = check_booking(bk("f", 1, 2, 9), [], CAL, at(2, 10))
    assert past == ["Нельзя назначить замер на прошедшее время"]
    empty = Booking("g", 1, at(2, 10), at(2, 10))
    assert "позже начала" in check_booking(empty, [], CAL, NOW)[0]


def test_reschedule_moves_keeping_length_and_id():
    original = bk("a", 1, 2, 9)
    other = bk("b", 1, 3, 9)
    moved = reschedule(original, at(3, 12), [original, other], CAL, NOW)
    assert (moved.id, moved.start, moved.end, moved.address) == (
        "a",
        at(3, 12),
        at(3, 15),
        "Казань",
    )
    with pytest.raises(BookingError):
        reschedule(original, at(3, 10), [original, other], CAL, NOW)
    to_other = reschedule(original, at(3, 10), [original, other], CAL, NOW, measurer_id=2)
    assert to_other.measurer_id == 2


def test_next_free_slots_across_measurers_and_days():
    busy = [bk("a", 1, 2, 15), bk("b", 2, 2, 15), bk("c", 1, 3, 9)]
    got = next_free_slots(busy, [2, 1], at(2, 13), CAL, n=4)
    assert [(s.start.day, s.start.hour, s.measurer_id) for s in got] == [
        (3, 9, 2),
        (3, 12, 1),
        (3, 12, 2),
        (3, 15, 1),
    ]
    friday = next_free_slots([], [1], at(6, 16), CAL, n=1)
    assert (friday[0].start.day, friday[0].start.hour) == (9, 9)  # Monday
    assert next_free_slots([], [1], at(6, 16), CAL, n=3, horizon_days=0) == []


def test_confirmation_due_24h_before():
    assert confirmation_due(bk("a", 1, 3, 12)) == at(2, 12)
    assert confirmation_due(bk("a", 1, 3, 12), timedelta(hours=2)) == at(3, 10)
