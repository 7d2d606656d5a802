"""Lead-source analytics (metal) over hand-made mirrored leads and deals."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import app.reports as reports
from app.store import mirror
from app.store.base import Base

M = "member-1"
NOV = datetime(2026, 11, 1, tzinfo=UTC)
DEC = datetime(2026, 12, 1, tzinfo=UTC)


def _lead(s, member, rid, source, campaign, stage, created):
    data = {
        "id": rid,
        "sourceId": source,
        "utmCampaign": campaign,
        "stageId": stage,
        "createdTime": created,
    }
    mirror.put(s, member, "lead", rid, data, at=NOV)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(
        engine, tables=[mirror.MirrorRecord.__table__, mirror.StageStay.__table__]
    )
    with Session(engine) as s:
        _lead(s, M, 1, "WEB", "autumn", "CONVERTED", "2026-11-03T10:00:00+00:00")
        _lead(s, M, 2, "WEB", "autumn", "NEW", "2026-11-04T10:00:00+00:00")
        _lead(s, M, 3, "WEB", "autumn", "CONVERTED", "2026-11-05T10:00:00+00:00")
        _lead(s, M, 4, "CALL", None, "JUNK", "2026-11-06T10:00:00+00:00")
        _lead(s, M, 5, "WEB", "autumn", "CONVERTED", "2026-10-31T23:59:00+00:00")  # before
        _lead(s, "member-2", 6, "WEB", "autumn", "CONVERTED", "2026-11-03T10:00:00+00:00")
        won = {"id": 10, "leadId": 1, "stageId": "WON", "opportunity": 120000}
        mirror.put(s, M, "deal", 10, won, at=NOV)
        lost = {"id": 11, "leadId": 3, "stageId": "LOSE", "opportunity": "30000.5|RUB"}
        mirror.put(s, M, "deal", 11, lost, at=NOV)
        s.commit()
        yield s


def test_counts_per_source_and_campaign(session):
    (table,) = reports.build("lead_sources", session, M, since=NOV, until=DEC)
    # WEB/autumn: leads 1,2,3 (5 is October, 6 another portal); converted 1,3 -> 66.7 %;
    # won: deal 10 from lead 1. CALL: lead 4, nothing converted. Deal sums: both deals of
    # WEB/autumn's leads (120 000 + 30 000.5); won revenue: the won one only.
    assert table.rows == (
        ("WEB", "autumn", 3, 2, Decimal("66.7"), 1, 150000.5, 120000.0),
        ("CALL", "—", 1, 0, Decimal("0.0"), 0, 0.0, 0.0),
    )
    assert table.columns[-2:] == ("deals_sum", "won_revenue")


def test_empty_portal(session):
    (table,) = reports.build("lead_sources", session, "nobody", since=NOV, until=DEC)
    assert table.rows == ()
