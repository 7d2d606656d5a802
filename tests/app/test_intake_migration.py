"""The durable intake's Alembic revision (0801) creates exactly what the model declares."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine

from app.store.intake import IntakeRow


def test_migrated_table_matches_the_model(database_url):
    wanted = MetaData()
    IntakeRow.__table__.to_metadata(wanted)
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            diffs = [
                d
                for d in compare_metadata(MigrationContext.configure(conn), wanted)
                if "durable_intake" in repr(d)
            ]
    finally:
        engine.dispose()
    assert diffs == []


def test_replay_keeps_rows_while_redis_is_down_and_hands_them_on_after(services, monkeypatch):
    """Rows are deleted only in the transaction that enqueued them."""
    import redis

    from app import intake

    with services.session.begin() as s:
        s.add(IntakeRow(member_id="m-1", kind="job", payload={
            "queue": "sync", "func": "app.jobs.install.install_portal", "args": ["m-1"],
            "options": {}}))  # fmt: skip
    real = services.queue

    def down(name):
        raise redis.exceptions.ConnectionError("down")

    monkeypatch.setattr(services, "queue", down)
    assert intake.replay(services) == 0
    with services.session() as s:
        (row,) = s.query(IntakeRow).all()
        assert row.attempts == 1 and row.last_error == "Redis unavailable"
    monkeypatch.setattr(services, "queue", real)
    assert intake.replay(services) == 1
    with services.session() as s:
        assert s.query(IntakeRow).count() == 0
    assert [j.args for j in services.queue("sync").get_jobs()] == [["m-1"]]
