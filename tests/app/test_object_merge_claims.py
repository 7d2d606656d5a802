"""Merge claims in the store: the migration matches the model, overlapping claims fail on
SQLite and PostgreSQL, and on PostgreSQL a claim racing an uncommitted one waits, then fails."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import MetaData
from sqlalchemy.orm import sessionmaker

from app.store import objects_index
from app.store.client_comms import ClientComm
from app.store.objects_index import ClaimTaken, ObjectKey, ObjectMerge, ObjectMergeClaim
from tests.support.migrations import database_urls, load_revision, scoped_engine

SCHEMA = "object_merge_claims_test"
M = "member-claims"


def _engine(url, tmp_path):
    engine = scoped_engine(url, tmp_path, SCHEMA)
    with engine.begin() as conn:
        ctx = MigrationContext.configure(conn)
        with Operations.context(ctx):
            for name in ("0501_objects_index", "0502_client_comms", "0503_object_merge_claims"):
                load_revision(f"{name}.py").upgrade()
    return engine


def _journal(session, n: int) -> int:
    row = ObjectMerge(
        member_id=M, key=f"k{n}", main_id=n, request={}, plan={}, steps=[], state="planned"
    )
    session.add(row)
    session.flush()
    return row.id


@pytest.mark.parametrize("url", database_urls())
def test_migration_matches_the_model(url, tmp_path):
    engine = _engine(url, tmp_path)
    with engine.connect() as conn:
        wanted = MetaData()
        for model in (ObjectKey, ObjectMerge, ClientComm, ObjectMergeClaim):
            model.__table__.to_metadata(wanted)
        diffs = [
            d
            for d in compare_metadata(MigrationContext.configure(conn), wanted)
            if not (isinstance(d, tuple) and d[0] == "remove_table")
        ]
    assert diffs == []


@pytest.mark.parametrize("url", database_urls())
def test_an_object_is_claimed_by_one_journal_until_released(url, tmp_path):
    Session = sessionmaker(_engine(url, tmp_path))
    with Session() as s:
        first, second = _journal(s, 1), _journal(s, 2)
        objects_index.claim(s, M, first, [5, 7])
        objects_index.claim(s, M, first, [5, 7])  # its own claims again: fine (resume)
        s.commit()
    with Session() as s:
        with pytest.raises(ClaimTaken):
            objects_index.claim(s, M, second, [9, 7])
        s.rollback()
        holders = objects_index.claim_holders(s, M, [7, 9, 5], other_than=second)
        assert {k: v.id for k, v in holders.items()} == {5: first, 7: first}
        assert objects_index.claim_holders(s, M, [7], other_than=first) == {}
        assert objects_index.claim_holders(s, "another-portal", [7]) == {}
        objects_index.release(s, first)
        objects_index.claim(s, M, second, [9, 7])
        s.commit()
        assert {c.object_id for c in s.query(ObjectMergeClaim).filter_by(merge_id=second)} == {
            7,
            9,
        }


@pytest.mark.skipif(
    len(database_urls()) < 2, reason="needs TEST_DATABASE_URL=postgresql… (set in CI)"
)
def test_on_postgresql_a_racing_claim_waits_for_the_first_and_then_fails(tmp_path):
    Session = sessionmaker(_engine(database_urls()[1], tmp_path))
    with Session() as s:
        first, second = _journal(s, 1), _journal(s, 2)
        s.commit()
    holder = Session()
    objects_index.claim(holder, M, first, [7])  # flushed, not committed: invisible to others
    outcome = {}

    def racer():
        with Session() as s:
            try:
                objects_index.claim(s, M, second, [7])
                s.commit()
                outcome["result"] = "claimed"
            except ClaimTaken:
                outcome["result"] = "taken"

    thread = threading.Thread(target=racer)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive()  # blocked on the first transaction's row, not racing past it
    holder.commit()
    holder.close()
    thread.join(timeout=10)
    assert outcome == {"result": "taken"}
