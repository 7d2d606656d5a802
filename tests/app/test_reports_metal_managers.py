"""metal per-manager control (seed 001 row 31) over a hand-made mirror: leads taken, time to
first contact, converted, won, overdue to-dos and stalled leads per responsible."""

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

M = "member-metal"
NOV, DEC = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
H = timedelta(hours=1)


def _lead(s, rid, who, stage, created):
    data = {"id": rid, "assignedById": who, "stageId": stage, "createdTime": created.isoformat()}
    mirror.put(s, M, "lead", rid, data, at=created)


def _activity(s, rid, lead, who, created, done="Y", deadline=None):
    data = {"ID": rid, "OWNER_TYPE_ID": "1", "OWNER_ID": str(lead), "RESPONSIBLE_ID": who,
            "CREATED": created.isoformat(), "COMPLETED": done,
            "DEADLINE": deadline.isoformat() if deadline else ""}  # fmt: skip
    mirror.put(s, M, "activity", rid, data)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    import_models()
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        schema_objects.record(
            s,
            M,
            [Known("stage", "metal.lead.stalled", "1", "MT_STALLED", True, {"list": "STATUS"})],
        )
        users = [{"ID": "4", "NAME": "Иван", "LAST_NAME": "Котов"}]
        s.add(DirectoryCache(member_id=M, name="users", data=users, fetched_at=NOV))
        t0 = NOV + timedelta(days=2)
        _lead(s, 1, 4, "CONVERTED", t0)
        _activity(s, 100, 1, 4, t0 + 2 * H)
        _lead(s, 2, 4, "MT_HANDED", t0)
        _activity(s, 101, 2, 4, t0 + 4 * H)
        _activity(s, 102, 2, 4, t0 + 30 * H, done="N", deadline=datetime.now(UTC) - H)  # overdue
        _lead(s, 3, 4, "MT_STALLED", t0)  # never contacted, stalled
        _lead(s, 4, 5, "MT_HANDED", t0)
        _lead(s, 5, 5, "MT_STALLED", NOV - timedelta(days=40))  # October: only as stalled now
        mirror.put(s, M, "deal", 20, {"id": 20, "leadId": 1, "stageId": "C2:WON"})
        s.commit()
        yield s


def test_each_managers_leads_first_contact_results_and_what_is_overdue_now(session):
    (table,) = reports.build("metal_managers", session, M, since=NOV, until=DEC)
    assert table.rows == (
        # leads, median h to first contact, no contact, converted, won, overdue, stalled
        ("#5", 1, None, 1, 0, 0, 0, 1),
        ("Иван Котов", 3, 3.0, 1, 1, 1, 1, 1),
    )
