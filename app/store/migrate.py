"""Run Alembic migrations programmatically: :func:`upgrade` (``upgrade heads``).

Every helper adds its own revision file under ``migrations/versions`` with
``down_revision = "0001_installations"`` and a branch label, so there are several heads;
``upgrade heads`` applies all of them. Tests run these migrations (never ``create_all``),
so the migrations themselves are tested.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def import_models() -> None:
    """Import every module of ``app.store`` so all tables are on ``Base.metadata``."""
    import app.store as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name in ("migrate", "migrations"):
            continue
        importlib.import_module(f"app.store.{info.name}")


def alembic_config(url: str) -> Config:
    from app.store.db import normalize_url

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' must be escaped for configparser interpolation (passwords may contain it)
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, target: str = "heads") -> None:
    """Bring the database at ``url`` to ``target`` (default: every head)."""
    command.upgrade(alembic_config(url), target)


def downgrade(url: str, target: str = "base") -> None:
    command.downgrade(alembic_config(url), target)
