"""eshop order funnel (seed 004 rows 5, 11, 20): orders per stage, where they are lost,
conversion, revenue and cycle per manager, and the orders stuck now — over a hand-made
store whose eshop pipeline is category 3 (stages ``C3:*``)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import app.reports as reports
from app.store import mirror, schema_objects
from app.store.base import Base
from app.store.migrate import import_models
from app.store.schema_objects import Known
from app.store.timers import DirectoryCache

M = "member-funnel"
NOV, DEC = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
D = timedelta(days=1)
STAGES = {
    "eshop.order.new": "C3:NEW",
    "eshop.order.confirmed": "C3:CONFIRMED",
    "eshop.order.assembling": "C3:ASSEMBLING",
    "eshop.order.received": "C3:WON",
    "eshop.order.cancelled": "C3:LOSE",
}


def _order(s, rid, owner, stages, start, amount=0, step=D):
    for i, st in enumerate(stages):
        data = {"id": rid, "title": f"Заказ {rid}", "assignedById": owner, "stageId": st,
                "opportunity": amount}  # fmt: skip
        mirror.put(s, M, "deal", rid, data, at=start + i * step)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    import_models()
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        schema_objects.record(
            s,
            M,
            [
                Known("stage", c, "1", sid, True, {"list": "DEAL_STAGE_3"})
                for c, sid in STAGES.items()
            ],
        )
        users = [{"ID": "5", "NAME": "Ольга", "LAST_NAME": "Смирнова"}]
        s.add(DirectoryCache(member_id=M, name="users", data=users, fetched_at=NOV))
        _order(s, 1, 5, ["C3:NEW", "C3:CONFIRMED", "C3:WON"], NOV + D, 1000)  # 2-day cycle
        _order(s, 2, 5, ["C3:NEW", "C3:CONFIRMED", "C3:ASSEMBLING", "C3:WON"], NOV + D, 3000)
        _order(s, 3, 7, ["C3:NEW", "C3:CONFIRMED", "C3:LOSE"], NOV + 2 * D, 500)
        _order(s, 4, 7, ["C3:NEW", "C3:LOSE"], NOV + 3 * D, 200)
        _order(s, 5, 7, ["C3:NEW", "C3:CONFIRMED"], NOV + 4 * D, 800)  # open, stuck > 24 h
        _order(s, 6, 5, ["C3:NEW", "C3:WON"], NOV - 20 * D, 9999)  # October: not counted
        _order(s, 7, 5, ["C3:NEW"], datetime.now(UTC) - timedelta(minutes=30))  # fresh
        s.commit()
        yield s


def test_orders_per_stage_and_where_they_are_lost(session):
    per_stage, lost, _, _ = reports.build("eshop_funnel", session, M, since=NOV, until=DEC)
    rows = {r[0]: r[1:] for r in per_stage.rows}
    assert rows["Новый заказ"] == (5, 0, 0.0)  # orders 1–5 reached it; none is there now
    assert rows["Подтверждён"] == (4, 1, 800.0)
    assert rows["Получен"] == (2, 2, 4000.0)
    assert rows["Отменён"] == (2, 2, 700.0)
    assert "first seen in the period: 5" in per_stage.note
    assert lost.rows == (("Новый заказ", 1, 50.0), ("Подтверждён", 1, 50.0))


def test_conversion_revenue_and_cycle_per_manager(session):
    _, _, per_manager, _ = reports.build("eshop_funnel", session, M, since=NOV, until=DEC)
    assert per_manager.rows == (
        ("#7", 3, 0, 0.0, 0.0, None),
        ("Ольга Смирнова", 2, 2, 100.0, 4000.0, 2.5),  # cycles of 2 and 3 days
    )


def test_stuck_orders_are_those_over_their_stage_limit_now(session):
    *_, stuck = reports.build("eshop_funnel", session, M, since=NOV, until=DEC)
    assert [(r[0], r[1], r[3], r[4]) for r in stuck.rows] == [("Заказ 5", "Подтверждён", 24, "#7")]
    # a stricter limit also catches the fresh order's half hour in «Новый заказ»
    limits = {"stage_limits_hours": {"eshop.order.new": 0.25, "eshop.order.confirmed": 24}}
    *_, stuck = reports.build("eshop_funnel", session, M, since=NOV, until=DEC, settings=limits)
    assert {r[0] for r in stuck.rows} == {"Заказ 5", "Заказ 7"}


def test_a_portal_without_the_pipeline_gets_a_note(session):
    (table,) = reports.build("eshop_funnel", session, "member-bare", since=NOV, until=DEC)
    assert table.rows == () and "not installed" in table.note
