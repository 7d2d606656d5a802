"""Installations store on SQLite and PostgreSQL: migrations, repository, token store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect

from app.portal.errors import PortalGone
from app.store import installations as inst
from app.store.db import make_engine, session_factory

MEMBER = "a223c6b3710f85df22e9377d6c4f7553"


@pytest.fixture
def sessions(database_url):
    engine = make_engine(database_url)
    yield session_factory(engine)
    engine.dispose()


def test_migrations_create_installations_and_every_head(database_url):
    from alembic.script import ScriptDirectory

    from app.store.migrate import alembic_config

    engine = make_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            applied = {
                r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")
            }
    finally:
        engine.dispose()
    assert "installations" in tables
    heads = set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
    assert applied == heads  # several helpers' branches: all of them applied


def test_upsert_creates_then_updates_without_clobbering_with_none(sessions):
    with sessions.begin() as s:
        inst.upsert_verified(
            s,
            MEMBER,
            domain="Example.Bitrix24.com",
            auth_mode="oauth",
            access_token="at1",
            refresh_token="rt1",
            expires_at=1716498251,
            application_token="apptok",
            status="active",
        )
    with sessions.begin() as s:
        inst.upsert_verified(s, MEMBER, access_token="access-two", application_token=None)
    with sessions() as s:
        row = inst.get(s, MEMBER)
        assert row.domain == "example.bitrix24.com"
        assert row.access_token == "access-two"
        assert row.refresh_token == "rt1"
        assert row.application_token == "apptok"
        assert row.expires_at == datetime.fromtimestamp(1716498251, UTC)
        assert inst.get_by_domain(s, "example.bitrix24.com").member_id == MEMBER
        assert "access-two" not in repr(row)


def test_upsert_rejects_unknown_fields(sessions):
    with sessions() as s, pytest.raises(TypeError):
        inst.upsert_verified(s, MEMBER, domain="x", tokn="typo")


def test_token_store_load_save_and_needs_reinstall(sessions):
    with sessions.begin() as s:
        inst.upsert_verified(
            s, MEMBER, domain="example.bitrix24.com", auth_mode="oauth", access_token="a",
            refresh_token="r", client_endpoint="https://example.bitrix24.com/rest/", status="active",
        )  # fmt: skip
    store = inst.SqlTokenStore(sessions)
    store.save_tokens(MEMBER, "access-new", "refresh-new", 1780319382)
    creds = store.load(MEMBER)
    assert (creds.access_token, creds.refresh_token) == ("access-new", "refresh-new")
    assert creds.expires_at == datetime.fromtimestamp(1780319382, UTC)
    assert "access-new" not in repr(creds) and "refresh-new" not in repr(creds)
    store.mark_needs_reinstall(MEMBER, "invalid_grant on refresh")
    assert store.load(MEMBER).status == "needs_reinstall"
    with pytest.raises(inst.InstallationNotFound):
        store.load("nope")


def test_deactivate_wipes_secrets_and_load_says_gone(sessions):
    with sessions.begin() as s:
        inst.upsert_verified(
            s, MEMBER, domain="example.bitrix24.com", auth_mode="oauth", access_token="a",
            refresh_token="r", application_token="t", status="active",
        )  # fmt: skip
    with sessions.begin() as s:
        assert inst.deactivate(s, MEMBER)
    with sessions() as s:
        row = inst.get(s, MEMBER)
        assert row.status == "uninstalled"
        assert (row.access_token, row.refresh_token, row.application_token) == (None, None, None)
    with pytest.raises(PortalGone):
        inst.SqlTokenStore(sessions).load(MEMBER)


def test_tables_are_empty_at_test_start(sessions):
    # the fixture clears tables between tests: a row written by an earlier test is gone
    with sessions() as s:
        assert inst.get(s, MEMBER) is None
