"""The events/mirror Alembic revision creates exactly the tables the models describe."""

import importlib.util
import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import MetaData, create_engine, text

from app.store import audit, mirror

REVISION = (
    Path(__file__).resolve().parents[2] / "app/store/migrations/versions/0101_events_mirror.py"
)
TABLES = [
    mirror.MirrorRecord.__table__,
    mirror.StageStay.__table__,
    mirror.SyncCheckpoint.__table__,
    audit.ActionClaim.__table__,
    audit.AuditEntry.__table__,
]


def _revision():
    spec = importlib.util.spec_from_file_location("rev_0101", REVISION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _urls():
    yield "sqlite://"
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        yield os.environ["TEST_DATABASE_URL"]


@pytest.mark.parametrize("url", list(_urls()))
def test_upgrade_matches_models_and_downgrade_removes_everything(url):
    engine = create_engine(url)
    rev = _revision()
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
