"""Mirror store: snapshots, stage history, echo folding, checkpoints; audit claims."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.store import audit, mirror
from app.store.base import Base

M = "member-1"
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(
        engine,
        tables=[
            mirror.MirrorRecord.__table__,
            mirror.StageStay.__table__,
            mirror.SyncCheckpoint.__table__,
            audit.ActionClaim.__table__,
            audit.AuditEntry.__table__,
        ],
    )
    with Session(engine) as s:
        yield s


def test_put_get_and_stage_history_records_each_stay(session):
    mirror.put(session, M, "lead", 5, {"id": 5, "stageId": "NEW"}, at=T0, by=1)
    mirror.put(
        session,
        M,
        "lead",
        5,
        {"id": 5, "stageId": "NEW", "title": "x"},
        at=T0 + timedelta(minutes=1),
    )
    mirror.put(
        session, M, "lead", 5, {"id": 5, "stageId": "UC_DATA"}, at=T0 + timedelta(hours=2), by=7
    )
    session.commit()
    assert mirror.get(session, M, "lead", 5) == {"id": 5, "stageId": "UC_DATA"}
    stays = mirror.stage_history(session, M, "lead", 5)
    assert [(s.stage, s.entered_at, s.left_at, s.entered_by, s.left_by) for s in stays] == [
        ("NEW", T0, T0 + timedelta(hours=2), 1, 7),
        ("UC_DATA", T0 + timedelta(hours=2), None, 7, None),
    ]


def test_merge_folds_our_write_and_ignores_unknown_records(session):
    mirror.put(session, M, "deal", 1, {"id": 1, "title": "a", "stageId": "NEW"}, at=T0)
    mirror.merge(session, M, "deal", 1, {"title": "b", "stageId": "WON"})
    mirror.merge(session, M, "deal", 2, {"title": "b"})
    session.commit()
    assert mirror.get(session, M, "deal", 1) == {"id": 1, "title": "b", "stageId": "WON"}
    assert mirror.get(session, M, "deal", 2) is None
    assert [s.stage for s in mirror.stage_history(session, M, "deal", 1)] == ["NEW", "WON"]


def test_deleted_record_reads_as_absent_and_closes_its_stay(session):
    mirror.put(session, M, "lead", 5, {"id": 5, "stageId": "NEW"}, at=T0)
    mirror.mark_deleted(session, M, "lead", 5, at=T0 + timedelta(days=1))
    session.commit()
    assert mirror.get(session, M, "lead", 5) is None
    assert mirror.stage_history(session, M, "lead", 5)[0].left_at == T0 + timedelta(days=1)


def test_put_many_upserts_a_page_and_checkpoint_persists(session):
    page = [
        {"id": i, "stageId": "NEW", "movedTime": "2026-11-20T10:00:00+03:00"} for i in (1, 2, 3)
    ]
    assert mirror.put_many(session, M, "lead", page) == 3
    mirror.put_many(session, M, "lead", [{"id": 2, "stageId": "JUNK"}])
    cp = mirror.checkpoint(session, M, "lead", "full")
    cp.last_id = 3
    session.commit()
    assert sorted(r.record_id for r in mirror.records(session, M, "lead")) == [1, 2, 3]
    assert mirror.get(session, M, "lead", 2) == {"id": 2, "stageId": "JUNK"}
    first = mirror.stage_history(session, M, "lead", 1)[0]
    assert first.entered_at == datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
    assert mirror.checkpoint(session, M, "lead", "full").last_id == 3


def test_claims_are_taken_once_and_failed_claims_can_be_retaken(session):
    assert audit.try_claim(session, M, "k1", "r") is True
    assert audit.try_claim(session, M, "k1", "r") is False
    assert audit.try_claim(session, "other-member", "k1", "r") is True
    audit.settle(session, M, "k1", audit.FAILED, {"error": "x"})
    session.commit()
    claim = audit.existing_claims(session, M, ["k1", "k2"])["k1"]
    assert claim.status == audit.FAILED
    audit.reclaim_failed(session, claim)
    session.commit()
    assert audit.existing_claims(session, M, ["k1"])["k1"].status == audit.PENDING
