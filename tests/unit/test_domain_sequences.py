from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import pytest

from app.domain.cadences import (
    deferred_demand_cadence,
    sos_chain,
    store_escalation,
    store_visit_nurture,
)
from app.domain.calendar import WorkCalendar
from app.domain.sequences import Sequence, Step, due_firings, firings, next_step

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def test_sos_schedule_widens_then_repeats():
    got = [(f.key, f.due_at - T0, f.step.audience) for f in islice(firings(sos_chain(), T0), 5)]
    assert got == [
        ("0:0", 0 * M, ("sales",)),
        ("1:0", 15 * M, ("sales", "head_of_sales")),
        ("2:0", 30 * M, ("sales", "head_of_sales", "ceo")),
        ("2:1", 45 * M, ("sales", "head_of_sales", "ceo")),
        ("2:2", 60 * M, ("sales", "head_of_sales", "ceo")),
    ]


def test_sos_replay_and_progress():
    chain = sos_chain()
    first = next_step(chain, T0, set(), T0)
    assert first.key == "0:0" and first.due_at == T0
    # The same timer replayed after firing: nothing due, the next timer is at +15 min.
    again = next_step(chain, T0, {"0:0"}, T0 + 5 * M)
    assert again.key == "1:0" and again.due_at == T0 + 15 * M
    assert due_firings(chain, T0, {"0:0"}, T0 + 5 * M) == []


def test_sos_outage_fires_only_the_widest_latest_occurrence():
    due = due_firings(sos_chain(), T0, {"0:0"}, T0 + 100 * M)
    # 100 min: step 2 started at 30, repeats at 45, 60, 75, 90 → occurrence 4.
    assert [(f.key, f.due_at - T0) for f in due] == [("2:4", 90 * M)]
    assert due_firings(sos_chain(), T0, {"0:0", "2:4"}, T0 + 100 * M) == []
    assert next_step(sos_chain(), T0, {"2:4"}, T0 + 100 * M).key == "2:5"


def test_sos_interval_is_a_setting():
    chain = sos_chain(timedelta(minutes=5))
    assert [f.due_at - T0 for f in islice(firings(chain, T0), 4)] == [0 * M, 5 * M, 10 * M, 15 * M]


def test_store_escalation_default_three_hours():
    chain = store_escalation()
    got = [(f.due_at - T0, f.step.audience) for f in firings(chain, T0)]
    assert got == [(timedelta(hours=1), ("store_admin",)), (timedelta(hours=3), ("store_manager",))]
    assert next_step(chain, T0, {"0:0", "1:0"}, T0 + timedelta(hours=5)) is None


def test_escalation_in_working_hours():
    cal = WorkCalendar(ZoneInfo("Europe/Moscow"))
    start = datetime(2026, 3, 6, 16, 0, tzinfo=ZoneInfo("Europe/Moscow"))  # Friday 16:00
    got = [f.due_at for f in firings(store_escalation(), start, cal)]
    assert got == [
        datetime(2026, 3, 6, 17, 0, tzinfo=ZoneInfo("Europe/Moscow")),
        datetime(2026, 3, 9, 10, 0, tzinfo=ZoneInfo("Europe/Moscow")),  # Monday
    ]


def test_metal_deferred_demand_60_30_30():
    cad = deferred_demand_cadence()
    got = [(f.key, (f.due_at - T0).days, f.step.action) for f in firings(cad, T0)]
    assert got == [
        ("0:0", 60, "message_client"),
        ("1:0", 90, "message_client"),
        ("2:0", 120, "task"),
        ("3:0", 120, "move_stage"),
    ]
    assert cad.stop_condition == "client_returned"
    # Cadences do not collapse: a late run does both the task and the stage move.
    late = due_firings(cad, T0, {"0:0", "1:0"}, T0 + timedelta(days=121))
    assert [f.key for f in late] == ["2:0", "3:0"]
    assert next_step(cad, T0, set(), T0 + timedelta(days=1)).due_at == T0 + timedelta(days=60)


def test_furniture_nurture_closes_after_a_month():
    cad = store_visit_nurture()
    days = [((f.due_at - T0).days, f.step.action) for f in firings(cad, T0)]
    assert days == [
        (3, "message_client"),
        (10, "message_client"),
        (20, "message_client"),
        (30, "close_lost"),
    ]
    assert cad.steps[-1].params == {"stage": "did_not_return", "create_contact": True}
    with pytest.raises(ValueError):
        store_visit_nurture(((timedelta(days=40), "x"),))


def test_repeat_limited_by_max_occurrences():
    seq = Sequence("s", (Step(M, "notify", repeat_every=10 * M, max_occurrences=3),))
    assert [f.due_at - T0 for f in firings(seq, T0)] == [1 * M, 11 * M, 21 * M]
    assert [f.key for f in due_firings(seq, T0, set(), T0 + 500 * M)] == ["0:2"]


def test_invalid_steps():
    with pytest.raises(ValueError):
        Sequence("s", (Step(-M, "notify"),))
    with pytest.raises(ValueError):
        Sequence("s", (Step(M, "notify", repeat_every=timedelta(0)),))
