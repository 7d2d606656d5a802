"""Alembic environment: online migrations against ``sqlalchemy.url`` (set by app.store.migrate)."""

from __future__ import annotations

from alembic import context

from app.store.base import Base
from app.store.db import make_engine
from app.store.migrate import import_models

import_models()
config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run app.store.migrate.upgrade")
run_migrations_online()
