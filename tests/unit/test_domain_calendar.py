from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.domain.calendar import WorkCalendar

MSK = ZoneInfo("Europe/Moscow")
# 2026-01-16 is a Friday; 2026-01-19 a Monday.
CAL = WorkCalendar(MSK, holidays={date(2026, 1, 20)}, extra_workdays={date(2026, 1, 24)})


def at(d, h, m=0):
    return datetime(2026, 1, d, h, m, tzinfo=MSK)


@pytest.mark.parametrize(
    "moment, working",
    [
        (at(16, 9), True),
        (at(16, 17, 59), True),
        (at(16, 18), False),
        (at(16, 8, 59), False),
        (at(17, 12), False),  # Saturday
        (at(20, 12), False),  # holiday Tuesday
        (at(24, 12), True),  # transferred working Saturday
        (datetime(2026, 1, 16, 6, 0, tzinfo=UTC), True),  # 09:00 in Moscow
    ],
)
def test_is_working(moment, working):
    assert CAL.is_working(moment) is working


@pytest.mark.parametrize(
    "moment, expected",
    [
        (at(16, 10), at(16, 10)),
        (at(16, 7), at(16, 9)),
        (at(16, 18), at(19, 9)),
        (at(17, 12), at(19, 9)),
        (at(19, 19), at(21, 9)),  # skips the holiday
        (at(23, 20), at(24, 9)),
    ],
)
def test_next_working_moment(moment, expected):
    assert CAL.next_working_moment(moment) == expected


@pytest.mark.parametrize(
    "start, amount, expected",
    [
        (at(16, 10), timedelta(hours=3), at(16, 13)),
        (at(16, 16), timedelta(hours=3), at(19, 10)),  # 2 h Friday + 1 h Monday
        (at(16, 15), timedelta(hours=3), at(16, 18)),  # exactly at close
        (at(17, 3), timedelta(hours=3), at(19, 12)),  # from Saturday night
        (at(19, 17), timedelta(hours=2), at(21, 10)),  # over the holiday
        (at(16, 10), timedelta(hours=20), at(21, 12)),  # 8 + 9 (Mon) + 3 (Wed)
        (at(16, 10), timedelta(0), at(16, 10)),
        (at(16, 11), 1, at(19, 11)),
        (at(16, 20), 1, at(21, 9)),  # Fri evening → Mon 09:00 + 1 day, Tue is a holiday
        (at(19, 11), 3, at(23, 11)),
        (at(22, 11), 2, at(24, 11)),  # Thu 22 → Fri 23 → Sat 24, a transferred working day
    ],
)
def test_add_working(start, amount, expected):
    assert CAL.add_working(start, amount) == expected


def test_results_are_in_calendar_zone_whatever_the_input_zone():
    start = datetime(2026, 1, 16, 7, 0, tzinfo=UTC)  # 10:00 MSK
    result = CAL.add_working(start, timedelta(hours=1))
    assert result == at(16, 11)
    assert result.tzinfo == MSK


def test_bad_inputs():
    with pytest.raises(ValueError, match="naive"):
        CAL.is_working(datetime(2026, 1, 16, 10))
    with pytest.raises(ValueError):
        CAL.add_working(at(16, 10), timedelta(hours=-1))
    with pytest.raises(TypeError):
        CAL.add_working(at(16, 10), True)
    with pytest.raises(ValueError):
        WorkCalendar(MSK, time(18), time(9))
    with pytest.raises(ValueError):
        WorkCalendar(MSK, workdays=frozenset())


def test_working_time_between():
    assert CAL.working_time_between(at(16, 16), at(19, 10)) == timedelta(hours=3)
    assert CAL.working_time_between(at(19, 17), at(21, 10)) == timedelta(hours=2)
    assert CAL.working_time_between(at(16, 10), at(16, 9)) == timedelta(0)
    assert CAL.working_time_between(at(17, 0), at(18, 23)) == timedelta(0)


def test_from_settings_and_round_trip_with_between():
    cal = WorkCalendar.from_settings(
        "Asia/Yekaterinburg", "10:00", "19:00", [1, 2, 3, 4, 5, 6], holidays=["2026-01-07"]
    )
    start = datetime(2026, 1, 6, 18, 0, tzinfo=ZoneInfo("Asia/Yekaterinburg"))  # Tue
    end = cal.add_working(start, timedelta(hours=4))
    assert end == datetime(2026, 1, 8, 13, 0, tzinfo=ZoneInfo("Asia/Yekaterinburg"))
    for hours in (1, 5, 9, 10, 27):
        assert cal.working_time_between(start, cal.add_working(start, timedelta(hours=hours))) == (
            timedelta(hours=hours)
        )


def test_from_settings_rejects_unknown_zone_and_bad_times():
    with pytest.raises(ValueError, match="time zone"):
        WorkCalendar.from_settings("Mars/Olympus")
    with pytest.raises(ValueError):
        WorkCalendar.from_settings("Europe/Moscow", "9 утра")
