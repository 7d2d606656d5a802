"""The outbox Alembic revision creates exactly what the models describe (both backends)."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import MetaData, create_engine, text

from app.store.outbox import OutboxMessage
from tests.support.migrations import database_urls, load_revision

TABLES = [OutboxMessage.__table__]
SCHEMA = "outbox_mig_test"


@pytest.mark.parametrize("url", database_urls())
def test_upgrade_matches_models_and_downgrade_removes_the_tables(url):
    engine = create_engine(url)
    rev = load_revision("0701_outbox.py")
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
            conn.execute(text(f"SET search_path TO {SCHEMA}"))
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
        assert not set(engine.dialect.get_table_names(conn)) & {t.name for t in TABLES}
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"DROP SCHEMA {SCHEMA} CASCADE"))
