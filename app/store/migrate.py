"""Run Alembic migrations programmatically: :func:`upgrade` (``upgrade heads``), and the
start-up guard (:func:`require_current`) that refuses to run code on a store it does not fit.

Every helper adds its own revision file under ``migrations/versions`` with
``down_revision = "0001_installations"`` and a branch label, so there are several heads;
``upgrade heads`` applies all of them. Tests run these migrations (never ``create_all``),
so the migrations themselves are tested.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
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
    """Take the database at ``url`` down to ``target`` (a revision, ``label@-1`` or ``base``)."""
    command.downgrade(alembic_config(url), target)


# --- the start-up schema guard -------------------------------------------------------------

UPGRADE_COMMAND = "flask --app wsgi b24 db upgrade"
_heads_cache: frozenset[str] | None = None


def code_heads() -> frozenset[str]:
    """Every head revision of the migrations shipped with this code (read once a process)."""
    global _heads_cache
    if _heads_cache is None:
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        _heads_cache = frozenset(ScriptDirectory.from_config(cfg).get_heads())
    return _heads_cache


def known_revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(r.revision for r in ScriptDirectory.from_config(cfg).walk_revisions())


def store_revisions(engine) -> frozenset[str]:
    """The revisions recorded in the store's ``alembic_version`` (empty: never migrated)."""
    import logging

    from alembic.runtime.migration import MigrationContext

    # configure() logs "Context impl …" at INFO on every call: noise for a start-up check
    alembic_log = logging.getLogger("alembic.runtime.migration")
    level = alembic_log.level
    alembic_log.setLevel(max(level, logging.WARNING))
    try:
        with engine.connect() as conn:
            return frozenset(MigrationContext.configure(conn).get_current_heads())
    finally:
        alembic_log.setLevel(level)


@dataclass(frozen=True)
class SchemaStatus:
    """Where the store is against what the code needs; ``message`` is one operator line."""

    current: frozenset[str]
    heads: frozenset[str]

    @property
    def ok(self) -> bool:
        return self.current == self.heads

    @property
    def missing(self) -> list[str]:
        return sorted(self.heads - self.current)

    @property
    def message(self) -> str:
        if self.ok:
            return f"store is at the code's revisions ({_names(self.heads)})"
        at = _names(self.current) if self.current else "none (never migrated)"
        unknown = sorted(self.current - known_revisions())
        if unknown:
            return (
                f"store is at revision {at}, code needs {_names(self.heads)}: "
                f"{', '.join(unknown)} is newer than this code; deploy the code that migrated it"
            )
        return (
            f"store is at revision {at}, code needs {_names(self.missing)}: run {UPGRADE_COMMAND}"
        )


def _names(revisions) -> str:
    return ", ".join(sorted(revisions))


class StoreNotReady(RuntimeError):
    """The store's schema is not the one this code needs; ``str()`` is the one-line reason."""


def schema_status(engine) -> SchemaStatus:
    """Compare the store with the code (one small query; raises if the store is unreachable)."""
    return SchemaStatus(current=store_revisions(engine), heads=code_heads())


def require_current(engine) -> None:
    """Raise :class:`StoreNotReady` when the store is behind or ahead of the code.

    An unreachable store is not judged here (it may be starting, e.g. PostgreSQL in the same
    compose file): the process starts and ``/healthz`` reports the store until it answers.
    """
    import logging

    try:
        status = schema_status(engine)
    except Exception as exc:  # noqa: BLE001 - unreachable now; health will say so
        logging.getLogger(__name__).warning("schema not checked, store unreachable: %s", exc)
        return
    if not status.ok:
        raise StoreNotReady(status.message)


def refuse_to_start(engine, process: str) -> bool:
    """For process entry points: print ``<process> refusing to start: <reason>`` on stderr
    and return True when the store does not fit the code (the caller exits non-zero)."""
    import sys

    try:
        require_current(engine)
    except StoreNotReady as exc:
        print(f"{process} refusing to start: {exc}", file=sys.stderr, flush=True)
        return True
    return False
