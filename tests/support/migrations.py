"""Helpers for tests that run one Alembic revision file directly against a database."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

VERSIONS = Path(__file__).resolve().parents[2] / "app/store/migrations/versions"


def load_revision(filename: str) -> ModuleType:
    """The revision module ``app/store/migrations/versions/<filename>``, imported by path
    (the versions folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"rev_{Path(filename).stem}", VERSIONS / filename)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def database_urls() -> list[str]:
    """In-memory SQLite, plus ``TEST_DATABASE_URL`` when it names a PostgreSQL server."""
    urls = ["sqlite://"]
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        urls.append(os.environ["TEST_DATABASE_URL"])
    return urls


def scoped_engine(url: str, tmp_path: Path, schema: str):
    """An engine of its own for one test: for ``sqlite://`` a file under ``tmp_path`` (so
    several connections see the same database), for PostgreSQL a freshly created
    ``schema`` on the search path (dropped first, so reruns start clean)."""
    from sqlalchemy import create_engine, text

    if url == "sqlite://":
        url = f"sqlite:///{tmp_path / f'{schema}.db'}"
    engine = create_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    return engine
