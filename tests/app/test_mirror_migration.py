"""The events/mirror Alembic revision creates exactly the tables the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import MetaData, create_engine, text

from app.store import audit, mirror
from tests.support.migrations import database_urls, load_revision

TABLES = [
    mirror.MirrorRecord.__table__,
    mirror.StageStay.__table__,
    mirror.SyncCheckpoint.__table__,
    audit.ActionClaim.__table__,
    audit.AuditEntry.__table__,
]


@pytest.mark.parametrize("url", database_urls())
def test_upgrade_matches_models_and_downgrade_removes_everything(url):
    engine = create_engine(url)
    rev = load_revision("0101_events_mirror.py")
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("CREATE SCHEMA IF NOT EXISTS events_mig_test"))
            conn.execute(text("SET search_path TO events_mig_test"))
            for t in reversed(TABLES):
                conn.execute(text(f"DROP TABLE IF EXISTS {t.name} CASCADE"))
        ctx = MigrationContext.configure(conn)
        with Operations.context(ctx):
            rev.upgrade()
        wanted = MetaData()
        for t in TABLES:
            t.to_metadata(wanted)
        diffs = [
            d
            for d in compare_metadata(ctx, wanted)
            if not (isinstance(d, tuple) and d[0] == "remove_table")
        ]
        assert diffs == []
        with Operations.context(ctx):
            rev.downgrade()
        remaining = set(engine.dialect.get_table_names(conn)) & {t.name for t in TABLES}
        assert remaining == set()
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA events_mig_test CASCADE"))
