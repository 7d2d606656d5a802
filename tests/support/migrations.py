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
