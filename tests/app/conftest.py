"""App-tier fixtures: a migrated database on every backend, Services, a Flask client.

* ``database_url`` — parametrized over ``sqlite`` (a tmp file) and, when ``TEST_DATABASE_URL``
  is set, ``postgres``: a fresh, uniquely named database created on that server for the test
  session (prefix ``TEST_DB_PREFIX``, default ``b24test``) and dropped at the end. The schema
  comes from the Alembic migrations (``upgrade heads``), never ``create_all``, so migrations
  are tested too. Each test starts with empty tables (one DELETE/TRUNCATE of all tables).
* ``make_services(**settings_overrides)`` / ``services`` — ``app.services.Services`` on the
  test database and the ``redis_url`` fixture's Redis, installed as the process-wide Services
  (``app.services.use``) for the test so jobs run in-process see the same store.
* ``flask_client`` — ``create_app(services=services).test_client()``.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, text

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else [])


def _pg_admin_url(url: str) -> str:
    from app.store.db import normalize_url

    return normalize_url(url)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@pytest.fixture(scope="session", params=BACKENDS)
def _migrated_database(request, tmp_path_factory):
    """One migrated database per backend for the whole session."""
    from app.store.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'app.db'}"
        upgrade(url)
        yield url
        return
    admin_url = _pg_admin_url(os.environ["TEST_DATABASE_URL"])
    prefix = os.environ.get("TEST_DB_PREFIX", "b24test")
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = _with_database(admin_url, name)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _clear_tables(url: str) -> None:
    from sqlalchemy import inspect

    engine = create_engine(url)
    try:
        names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"]
        with engine.begin() as conn:
            if not names:
                return
            if engine.dialect.name == "postgresql":
                quoted = ", ".join(f'"{n}"' for n in names)
                conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            else:
                for n in names:
                    conn.execute(text(f'DELETE FROM "{n}"'))
    finally:
        engine.dispose()


@pytest.fixture
def database_url(_migrated_database):
    """A migrated database with empty tables (sqlite file, and postgres when configured)."""
    _clear_tables(_migrated_database)
    return _migrated_database


@pytest.fixture
def make_services(database_url, redis_url, tmp_path):
    """Factory: ``make_services(emulator_address=..., ...)`` → Services on the test stores."""
    import app.services as services_module
    from app.services import Services
    from config.settings import Settings

    built = []
    previous = services_module.use(None)

    def make(**overrides):
        values = {
            "database_url": database_url,
            "redis_url": redis_url,
            "var_dir": str(tmp_path / "var"),
        }
        values.update(overrides)
        svc = Services(Settings(**values))
        built.append(svc)
        services_module.use(svc)
        return svc

    yield make
    services_module.use(previous)
    for svc in built:
        svc.close()


@pytest.fixture
def services(make_services):
    return make_services()


@pytest.fixture
def flask_app(services):
    from app.web import create_app

    return create_app(services=services)


@pytest.fixture
def flask_client(flask_app):
    return flask_app.test_client()
