"""Services: the worker composition root builds once from the environment; tests override."""

from __future__ import annotations

import app.services as services_module
from app.store import installations as inst


def test_current_builds_once_from_env_and_use_overrides(monkeypatch, tmp_path, redis_url):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/w.db")
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("PLAYBOOKS", "eshop")
    previous = services_module.use(None)
    try:
        built = services_module.current()
        assert built is services_module.current()
        assert built.settings.playbooks == ("eshop",)
        assert built.settings.database_url.endswith("/w.db")
        marker = object()
        services_module.use(marker)
        assert services_module.current() is marker
    finally:
        services_module.use(previous)
        built.close()


def test_portal_client_reads_the_stored_installation(services):
    from app.portal import PortalClient

    with services.session.begin() as s:
        inst.upsert_verified(
            s, "e" * 32, domain="x.bitrix24.com", auth_mode="webhook", status="active",
            webhook_url="https://x.bitrix24.com/rest/1/code/",
        )  # fmt: skip
    client = services.portal("e" * 32)
    assert isinstance(client, PortalClient)
    assert services.token_store.load("e" * 32).webhook_url == "https://x.bitrix24.com/rest/1/code/"
