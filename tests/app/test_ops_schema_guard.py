"""The store's migrations as an operator runs them, and the start-up schema guard.

* ``flask --app wsgi b24 db upgrade|current|downgrade`` over the Alembic branches;
* the web app (gunicorn ``wsgi:app``), the worker and the clock refuse an un-migrated or
  out-of-date store with one line naming both revisions and the command to run;
* ``/healthz`` answers 503 naming the schema check, and a request that needs the store
  answers 503 with a short text (no traceback reaches the client).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from app.store import migrate
from app.web import create_app

REPO = Path(__file__).resolve().parents[2]
UPGRADE_HINT = "run flask --app wsgi b24 db upgrade"


@pytest.fixture
def blank_store(tmp_path):
    """An empty SQLite file: what a deployer has before the first ``db upgrade``."""
    return f"sqlite:///{tmp_path / 'fresh.db'}"


@pytest.fixture
def proc_env(blank_store, redis_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("B24_", "TEST_"))}
    env.update(DATABASE_URL=blank_store, REDIS_URL=redis_url, VAR_DIR=str(tmp_path / "var"))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def _run(argv, env, timeout=60):
    return subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _flask(env, *args):
    return _run([sys.executable, "-m", "flask", "--app", "wsgi", "b24", *args], env)


def test_status_of_a_blank_store_names_both_sides_and_the_command(blank_store):
    status = migrate.schema_status(create_engine(blank_store))
    assert not status.ok and status.current == frozenset()
    assert status.heads == migrate.code_heads() and "0601_bookings" in status.heads
    assert status.message.startswith("store is at revision none (never migrated), code needs ")
    assert status.message.endswith(UPGRADE_HINT)
    assert "\n" not in status.message


def test_one_branch_behind_names_only_what_is_missing(blank_store):
    migrate.upgrade(blank_store)
    migrate.downgrade(blank_store, "bookings@-1")
    status = migrate.schema_status(create_engine(blank_store))
    assert status.missing == ["0601_bookings"]
    assert "code needs 0601_bookings: " + UPGRADE_HINT in status.message
    with pytest.raises(migrate.StoreNotReady, match="code needs 0601_bookings"):
        migrate.require_current(create_engine(blank_store))


def test_a_revision_the_code_does_not_know_is_refused_too(blank_store):
    migrate.upgrade(blank_store)
    engine = create_engine(blank_store)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE alembic_version SET version_num='9999_future' WHERE version_num='0601_bookings'"
        )
    message = migrate.schema_status(engine).message
    assert "9999_future is newer than this code" in message


def test_cli_db_commands_migrate_and_other_commands_refuse_until_then(proc_env):
    behind = _flask(proc_env, "db", "current", "--check")
    assert behind.returncode == 1 and "0601_bookings\tmissing" in behind.stdout
    refused = _flask(proc_env, "timers", "list")
    assert refused.returncode == 1
    assert "Error: store is at revision none (never migrated)" in refused.stderr
    assert UPGRADE_HINT in refused.stderr and "Traceback" not in refused.stderr

    up = _flask(proc_env, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    assert "before: none" in up.stdout and "store is up to date" in up.stdout
    assert _flask(proc_env, "db", "current", "--check").returncode == 0
    assert _flask(proc_env, "timers", "list").returncode == 0

    down = _flask(proc_env, "db", "downgrade", "bookings@-1", "--yes")
    assert down.returncode == 0, down.stderr
    refused = _flask(proc_env, "timers", "list")
    assert refused.returncode == 1 and "code needs 0601_bookings: " + UPGRADE_HINT in refused.stderr
    assert _flask(proc_env, "timers", "--help").returncode == 0  # help never needs the store


@pytest.mark.slow
def test_web_worker_and_clock_refuse_a_blank_store_with_one_line(proc_env):
    py = sys.executable
    commands = {
        "web": [py, "-m", "gunicorn", "-w", "1", "-b", "127.0.0.1:0", "wsgi:app"],
        "worker": [py, "-m", "app.worker", "--burst"],
        "clock": [py, "-m", "app.timers.clock"],
    }
    for name, argv in commands.items():
        done = _run(argv, proc_env)
        assert done.returncode != 0, name
        lines = [ln for ln in done.stderr.splitlines() if "refusing to start" in ln]
        assert lines and lines[0].startswith(f"{name} refusing to start: store is at revision none")
        assert lines[0].endswith(UPGRADE_HINT)
        assert "Traceback" not in done.stderr, (name, done.stderr)


def test_create_app_refuses_a_store_behind_the_code(make_services, blank_store):
    svc = make_services(database_url=blank_store)
    with pytest.raises(migrate.StoreNotReady, match="store is at revision none"):
        create_app(services=svc)


def test_health_is_503_naming_schema_and_requests_get_no_traceback(make_services, blank_store):
    svc = make_services(database_url=blank_store)
    client = create_app(services=svc, check_store=False).test_client()
    resp = client.get("/healthz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["failing"] == ["schema"]
    assert body["checks"]["store"]["ok"] is True
    assert "0601_bookings" in body["checks"]["schema"]["missing"]
    assert UPGRADE_HINT in body["checks"]["schema"]["error"]

    event = client.post(
        "/events",
        data={
            "event": "ONCRMLEADADD",
            "data[FIELDS][ID]": "1",
            "auth[member_id]": "a" * 32,
            "auth[application_token]": "t",
        },
    )
    assert event.status_code == 503
    assert event.get_data(as_text=True) == "store unavailable, try again later"
