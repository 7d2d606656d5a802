"""b2b conversion per manager and loss stages over a hand-made mirror."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import app.reports as reports
from app.store import mirror
from app.store.base import Base
from app.store.migrate import import_models
from app.store.timers import DirectoryCache

M = "member-1"
NOV = datetime(2026, 11, 1, tzinfo=UTC)
DEC = datetime(2026, 12, 1, tzinfo=UTC)
D = timedelta(days=1)


def _deal(s, rid, owner, stages, start=NOV + D):
    for i, st in enumerate(stages):
        data = {"id": rid, "assignedById": owner, "stageId": st}
        mirror.put(s, M, "deal", rid, data, at=start + i * D)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    import_models()  # reports also read the installer's records and the people directory
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        for rid, owner, stage in ((1, 5, "CONVERTED"), (2, 5, "NEW"), (3, 7, "CONVERTED")):
            data = {
                "id": rid,
                "assignedById": owner,
                "stageId": stage,
                "createdTime": "2026-11-10T09:00:00+00:00",
            }
            mirror.put(s, M, "lead", rid, data, at=NOV)
        _deal(s, 1, 5, ["NEW", "PROPOSAL", "LOSE"])
        _deal(s, 2, 5, ["NEW", "PROPOSAL", "LOSE"])
        _deal(s, 3, 5, ["NEW", "LOSE"])
        _deal(s, 4, 7, ["NEW", "WON"])
        _deal(s, 5, 7, ["NEW", "LOSE"], start=NOV - 5 * D)  # lost in October
        # the cached portal directory knows manager 5 by name, not 7 (hired since)
        users = [{"ID": "5", "NAME": "Ольга", "LAST_NAME": "Смирнова"}]
        s.add(DirectoryCache(member_id=M, name="users", data=users, fetched_at=NOV))
        s.commit()
        yield s


def test_conversion_and_loss_stage(session):
    conv, loss = reports.build("b2b_conversion", session, M, since=NOV, until=DEC)
    # manager 5: leads 1,2 -> 1 converted = 50 %; manager 7: lead 3 converted = 100 %
    olga = "Ольга Смирнова"
    assert conv.rows == ((olga, 2, 1, Decimal("50.0")), ("#7", 1, 1, Decimal("100.0")))
    # manager 5 lost deals 1,2 after PROPOSAL and 3 after NEW -> PROPOSAL (2 of 3);
    # manager 7's loss is in October, outside the period
    # (stages the app did not install keep their ids)
    assert loss.rows == ((olga, "PROPOSAL", 2, 3),)
