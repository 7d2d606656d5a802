"""The robot_runs Alembic revision creates exactly the table the model describes."""

import importlib.util
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import MetaData, create_engine, inspect

from app.store import robot_runs

REVISION = Path(__file__).resolve().parents[2] / "app/store/migrations/versions/0401_robot_runs.py"


def _revision():
    spec = importlib.util.spec_from_file_location("rev_0401", REVISION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_upgrade_matches_the_model_and_downgrade_removes_it():
    engine = create_engine("sqlite://")
    rev = _revision()
    with engine.begin() as conn:
        ctx = MigrationContext.configure(conn)
        with Operations.context(ctx):
            rev.upgrade()
        wanted = MetaData()
        robot_runs.RobotRun.__table__.to_metadata(wanted)
        assert compare_metadata(ctx, wanted) == []
        with Operations.context(ctx):
            rev.downgrade()
        assert "robot_runs" not in inspect(conn).get_table_names()
