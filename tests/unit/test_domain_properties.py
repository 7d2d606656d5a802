"""Property-like loops over small tables: invariants that must hold for every input."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.domain.booking import Booking, conflicts, free_slots
from app.domain.calendar import WorkCalendar
from app.domain.dedup import dedup_hash, normalise_keys
from app.domain.numbers import format_number, parse_number
from app.domain.stores import Store, find_store, store_table

TZ = ZoneInfo("Europe/Moscow")
CAL = WorkCalendar(TZ, holidays={date(2026, 3, 9)})


def test_formatted_numbers_parse_back():
    values = [
        Decimal(v)
        for v in ("0", "1", "999", "1000", "1250.5", "1234567.89", "0.05", "-42.125", "100000000")
    ]
    for v in values:
        for group in (" ", "\u00a0", ""):
            text = format_number(v, group=group)
            assert parse_number(text, allow_negative=True) == v, text


def test_working_time_round_trip_over_a_week():
    for day in range(2, 9):  # Mon 2 .. Sun 8 March 2026
        for hour in (0, 8, 9, 12, 17, 18, 23):
            start = datetime(2026, 3, day, hour, 30, tzinfo=TZ)
            for hours in (0, 1, 3, 9, 10, 30):
                end = CAL.add_working(start, timedelta(hours=hours))
                assert CAL.working_time_between(start, end) == timedelta(hours=hours)
                if hours:
                    assert CAL.is_working(end - timedelta(minutes=1))


def test_free_slots_never_overlap_bookings():
    day = date(2026, 3, 3)
    for start_hour in range(9, 16):
        for length in (1, 2, 3):
            start = datetime(2026, 3, 3, start_hour, tzinfo=TZ)
            busy = [Booking("b", 1, start, start + timedelta(hours=length))]
            for step in (timedelta(minutes=30), timedelta(hours=1), None):
                for s in free_slots(busy, 1, day, CAL, step=step):
                    assert not conflicts(Booking("x", 1, s.start, s.end), busy)
                    assert s.end <= datetime(2026, 3, 3, 18, tzinfo=TZ)


def test_dedup_hash_stable_across_spellings():
    spellings = [
        dict(width="12", length="24,0", site="Казань", purpose="Склад"),
        dict(width="1200 см", length="24 м", site="г. Казань".replace("г. ", ""), purpose="СКЛАД"),
        dict(width=12.0, length=Decimal("24.00"), site=" казань ", purpose="склад!"),
        dict(width="12000мм", length="2 400 см", site="Казань", purpose="склад"),
    ]
    hashes = {dedup_hash(normalise_keys(height="6", area="288", **s)) for s in spellings}
    assert len(hashes) == 1


def test_store_lookup():
    minsk = Store("Минск-1", 10, 11)
    table, problems = store_table(
        [
            ("Минск", minsk),
            ("г. МИНСК", Store("Минск-2", 20)),
            ("", Store("Нигде", 30)),
            ("Брест", Store("Брест", 40)),
        ],
        default=Store("Интернет", 1),
    )
    assert problems == [
        "Город «г. МИНСК» указан дважды — используется «Минск-1»",
        "Магазин «Нигде»: не указан город",
    ]
    for city in ("Минск", "г. Минск", " минск ", "город Минск"):
        assert find_store(table, city) == minsk
    assert find_store(table, "Гомель").name == "Интернет"
    assert find_store(store_table([])[0], "Минск") is None
