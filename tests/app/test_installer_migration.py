"""The installer's Alembic revisions create exactly what the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine

from app.store.portal_settings import PortalSetting
from app.store.schema_objects import SchemaObject


def test_migrated_tables_match_the_models(database_url):
    wanted = MetaData()
    for table in (SchemaObject.__table__, PortalSetting.__table__):
        table.to_metadata(wanted)
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            diffs = [
                d
                for d in compare_metadata(MigrationContext.configure(conn), wanted)
                if any(name in repr(d) for name in ("schema_objects", "portal_settings"))
            ]
    finally:
        engine.dispose()
    assert diffs == []
