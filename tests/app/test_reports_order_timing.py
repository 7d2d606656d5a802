"""Order timing report over a hand-made stage history (eshop §5.5)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import app.reports as reports
from app.store import mirror
from app.store.base import Base
from app.store.migrate import import_models

M, OTHER = "member-1", "member-2"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    import_models()  # reports also read the installer's records and the people directory
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        # order 1: NEW 2h, PAID 4h, WON (open); order 2: NEW 6h then open in PAID
        mirror.put(s, M, "deal", 1, {"id": 1, "stageId": "NEW"}, at=T0)
        mirror.put(s, M, "deal", 1, {"id": 1, "stageId": "PAID"}, at=T0 + 2 * H)
        mirror.put(s, M, "deal", 1, {"id": 1, "stageId": "WON"}, at=T0 + 6 * H)
        mirror.put(s, M, "deal", 2, {"id": 2, "stageId": "NEW"}, at=T0)
        mirror.put(s, M, "deal", 2, {"id": 2, "stageId": "PAID"}, at=T0 + 6 * H)
        mirror.put(s, OTHER, "deal", 1, {"id": 1, "stageId": "NEW"}, at=T0)
        s.commit()
        yield s


def test_stage_averages_and_order_totals(session):
    until = T0 + 10 * H
    stages, orders = reports.build("order_timing", session, M, since=T0, until=until)
    # NEW: 2h and 6h -> avg 4, max 6, total 8; PAID: 4h (order 1) and 4h open (6h..10h)
    # -> total 8; WON: 4h open (6h..10h). Ties keep insertion order of sort (stable).
    assert stages.rows[0] == ("NEW", 2, 4.0, 6.0)
    assert ("PAID", 2, 4.0, 4.0) in stages.rows
    assert ("WON", 1, 4.0, 4.0) in stages.rows
    # order 1: 2 + 4 + 4 = 10h; order 2: 6 + 4 = 10h
    assert orders.rows == ((1, 10.0), (2, 10.0))


def test_record_scope_period_and_no_leak(session):
    _, orders = reports.build("order_timing", session, M, record_id=2, since=T0, until=T0 + 8 * H)
    assert orders.rows == ((2, 8.0),)
    # stays entered before `since` are outside the period
    stages, orders = reports.build("order_timing", session, M, since=T0 + H, until=T0 + 8 * H)
    assert {r[0] for r in stages.rows} == {"PAID", "WON"}
    empty = reports.build("order_timing", session, "nobody", since=T0, until=T0 + H)
    assert all(t.rows == () for t in empty)


def test_unknown_report():
    with pytest.raises(reports.ReportError):
        reports.build("nope", None, M)
