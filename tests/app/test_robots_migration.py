"""The robot_runs Alembic revision creates exactly the table the model describes."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import MetaData, create_engine, inspect

from app.store import robot_runs
from tests.support.migrations import load_revision


def test_upgrade_matches_the_model_and_downgrade_removes_it():
    engine = create_engine("sqlite://")
    rev = load_revision("0401_robot_runs.py")
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
