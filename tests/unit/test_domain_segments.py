from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.domain.segments import (
    Order,
    SegmentSettings,
    StageEvent,
    aggregate_stage_durations,
    client_stats,
    is_returning_buyer,
    rank_clients,
    refusal_counts,
    segment,
    stage_durations,
    stage_overdue,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
H = timedelta(hours=1)


def day(n):
    return NOW - timedelta(days=n)


ORDERS = [
    Order(1, 100, day(400), Decimal(1000), "won"),
    Order(2, 200, day(30), Decimal(500), "won"),
    Order(3, 200, day(10), Decimal("250.50"), "won"),
    Order(4, 300, day(5), Decimal(9000), "won"),
    Order(5, 400, day(2), Decimal(700), "open"),
    Order(6, 400, day(3), Decimal(700), "lost", 7, "нашёл дешевле", day(1)),
]


@pytest.mark.parametrize(
    "client, expected",
    [(100, "lapsed"), (200, "repeat"), (300, "active"), (400, "new"), (999, "new")],
)
def test_segments(client, expected):
    assert segment(client_stats(client, ORDERS), NOW) == expected


def test_segment_thresholds_are_settings():
    stats = client_stats(300, ORDERS)
    assert segment(stats, NOW, SegmentSettings(lapsed_after=timedelta(days=4))) == "lapsed"
    assert segment(stats, NOW, SegmentSettings(repeat_min_orders=1)) == "repeat"
    # Exactly at the boundary the client is still active.
    assert segment(stats, day(5) + timedelta(days=180)) == "active"


def test_client_stats_and_ranking():
    s = client_stats(200, ORDERS)
    assert (s.orders, s.total, s.first_at, s.last_at) == (2, Decimal("750.50"), day(30), day(10))
    assert [(r.client_id, r.orders) for r in rank_clients(ORDERS)] == [(200, 2), (300, 1), (100, 1)]


def test_new_vs_returning_buyer():
    assert is_returning_buyer(Order(10, 200, NOW), ORDERS)
    assert not is_returning_buyer(Order(10, 400, NOW), ORDERS)  # only open/lost before
    assert not is_returning_buyer(ORDERS[1], ORDERS)  # first won order of client 200
    assert is_returning_buyer(ORDERS[2], ORDERS)


def ev(stage, hours):
    return StageEvent(1, stage, NOW + hours * H)


def test_stage_durations_sum_reentries_and_stop_at_final():
    events = [
        ev("new", 0),
        ev("confirmed", 2),
        ev("new", 3),
        ev("confirmed", 4),
        ev("shipped", 10),
        ev("received", 30),
    ]
    per, total = stage_durations(list(reversed(events)), NOW + 100 * H, final_stages=["received"])
    assert per == {"new": 3 * H, "confirmed": 7 * H, "shipped": 20 * H}
    assert total == 30 * H


def test_open_order_counts_current_stage_until_now():
    per, total = stage_durations([ev("new", 0), ev("assembling", 1)], NOW + 5 * H)
    assert per == {"new": H, "assembling": 4 * H}
    assert total == 5 * H
    assert stage_durations([], NOW) == ({}, timedelta(0))


def test_aggregate_shows_where_orders_stall():
    a = [ev("new", 0), ev("assembling", 1), ev("received", 3)]
    b = [ev("new", 0), ev("assembling", 3), ev("received", 13)]
    c = [ev("new", 0), ev("assembling", 2), ev("received", 5)]
    summary = aggregate_stage_durations([a, b, c], NOW + 50 * H, ["received"])
    assert [(s.stage, s.orders, s.mean, s.median, s.longest) for s in summary] == [
        ("assembling", 3, 5 * H, 3 * H, 10 * H),
        ("new", 3, 2 * H, 2 * H, 3 * H),
    ]


def test_stage_overdue():
    assert stage_overdue(NOW, 4 * H, NOW + 3 * H) is None
    assert stage_overdue(NOW, 4 * H, NOW + 4 * H) is None
    assert stage_overdue(NOW, 4 * H, NOW + 5 * H) == H


def test_refusal_counts_by_period_manager_reason():
    orders = [
        Order(
            1,
            1,
            day(50),
            status="lost",
            manager_id=7,
            refusal_reason="передумал",
            closed_at=datetime(2026, 3, 5, tzinfo=UTC),
        ),
        Order(
            2,
            1,
            day(50),
            status="lost",
            manager_id=7,
            refusal_reason="передумал",
            closed_at=datetime(2026, 3, 25, tzinfo=UTC),
        ),
        Order(
            3,
            1,
            day(50),
            status="lost",
            manager_id=8,
            refusal_reason="  ",
            closed_at=datetime(2026, 4, 1, tzinfo=UTC),
        ),
        Order(
            4, 1, day(50), status="won", manager_id=8, closed_at=datetime(2026, 4, 1, tzinfo=UTC)
        ),
        Order(
            5,
            1,
            day(50),
            status="lost",
            manager_id=8,
            refusal_reason="дорого",
            closed_at=datetime(2026, 5, 1, tzinfo=UTC),
        ),  # end is exclusive
    ]
    start, end = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)
    assert refusal_counts(orders, start, end) == {
        ("2026-03", 7, "передумал"): 2,
        ("2026-04", 8, "не указана"): 1,
    }
    assert refusal_counts(orders, start, end, "all") == {
        ("all", 7, "передумал"): 2,
        ("all", 8, "не указана"): 1,
    }
    assert set(refusal_counts(orders, start, end, "week")) == {
        ("2026-W10", 7, "передумал"),
        ("2026-W13", 7, "передумал"),
        ("2026-W14", 8, "не указана"),
    }
    with pytest.raises(ValueError):
        refusal_counts(orders, start, end, "year")
