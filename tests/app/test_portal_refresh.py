"""OAuth token refresh against the emulator's OAuth server: once, locked, never looping."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import redis
import requests

from app.portal import RedisTokenStore, client_for, client_from_parts, errors
from config.settings import Settings
from tests.app.test_portal_support import (
    CLIENT_SECRET,
    FAST,
    install_oauth_app,
    memory_client,
    oauth_credentials,
    request_log,
    run_workers,
    worker_calls,
)

CLIENT_ID = "local.gateway.1"
APP = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}


def _token_requests(emu) -> int:
    return emu.admin.get("requests")["http"].get("oauth/token", 0)


def _expire_tokens(emu) -> None:
    emu.admin.post("clock", {"advance": 3700})  # access tokens live one hour


def _statuses(emu, method: str) -> list[int]:
    return [e["status"] for e in request_log(emu) if e["method"] == method]


def test_expired_token_is_refreshed_once_and_the_call_repeated(emulator, redis_url):
    tokens = install_oauth_app(emulator)
    client, store = memory_client(oauth_credentials(tokens), redis_url, **APP)
    _expire_tokens(emulator)
    assert client.call("profile")["ID"] == "1"
    assert _statuses(emulator, "profile") == [401, 200]
    assert _token_requests(emulator) == 1
    stored = store.load("m-oauth")
    assert stored.access_token != tokens["access_token"]
    assert stored.refresh_token != tokens["refresh_token"]  # rotated pair saved
    assert stored.expires_at.timestamp() > tokens["expires"]


def test_refresh_race_across_processes_refreshes_exactly_once(emulator, redis_url):
    tokens = install_oauth_app(emulator)
    store = RedisTokenStore(redis.Redis.from_url(redis_url))
    store.put(oauth_credentials(tokens, "m-race"))
    _expire_tokens(emulator)
    barrier = ("test:refresh-race:barrier", 4)  # all four load the expired token, then go
    args = (redis_url, "m-race", 3, "profile", {}, FAST, CLIENT_ID, barrier)
    results = run_workers(worker_calls, [args] * 4)
    assert [r["outcome"] for r in results] == [{"ok": 3}] * 4
    assert _statuses(emulator, "profile").count(401) == 4  # all four hit the expired token
    assert _token_requests(emulator) == 1
    assert sum(r["stats"].get("refresh_skipped", 0) for r in results) == 3
    assert store.saves("m-race") == 1
    assert "invalid_grant" not in str(request_log(emulator))


def test_worker_holding_an_old_token_uses_the_one_another_worker_stored(emulator, redis_url):
    tokens = install_oauth_app(emulator)
    first, store = memory_client(oauth_credentials(tokens), redis_url, **APP)
    second = client_from_parts(
        store, "m-oauth", redis.Redis.from_url(redis_url), None, **FAST, **APP
    )
    first.call("profile")
    second.call("profile")  # both now hold the original token
    _expire_tokens(emulator)
    first.call("profile")
    second.call("profile")
    assert _token_requests(emulator) == 1
    assert second.stats["refresh_skipped"] == 1
    assert store.saves == 1


def test_refused_refresh_marks_reinstall_and_stops(emulator, redis_url):
    tokens = install_oauth_app(emulator)
    client, store = memory_client(oauth_credentials(tokens), redis_url, **APP)
    # someone else spends the single-use refresh token behind the store's back
    requests.get(
        emulator.oauth_token_url,
        params={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], **APP},
        timeout=10,
    ).raise_for_status()
    _expire_tokens(emulator)
    with pytest.raises(errors.TokenInvalid) as info:
        client.call("profile")
    assert info.value.code == "invalid_grant"
    assert store.load("m-oauth").status == "needs_reinstall"
    assert _statuses(emulator, "profile") == [401]  # one call, one refresh attempt, no loop
    assert _token_requests(emulator) == 2  # ours above + the gateway's single try
    with pytest.raises(errors.TokenInvalid):
        client.call("profile")
    assert _statuses(emulator, "profile") == [401] and _token_requests(emulator) == 2


def test_payment_required_at_refresh_raises_without_marking(emulator, redis_url):
    tokens = install_oauth_app(emulator)
    client, store = memory_client(oauth_credentials(tokens), redis_url, **APP)
    emulator.configure(payment_required=True)
    _expire_tokens(emulator)
    with pytest.raises(errors.PaymentRequired) as info:
        client.call("profile")
    assert info.value.code == "PAYMENT_REQUIRED"
    assert store.load("m-oauth").status == "active"
    assert _token_requests(emulator) == 1


def test_revoked_token_marks_reinstall(emulator, redis_url):
    tokens = install_oauth_app(emulator)
    client, store = memory_client(oauth_credentials(tokens), redis_url, **APP)
    emulator.admin.post(f"apps/{CLIENT_ID}/uninstall", {"clean": True})
    with pytest.raises(errors.TokenInvalid) as info:
        client.call("profile")
    assert info.value.code == "invalid_token"
    assert store.load("m-oauth").status == "needs_reinstall"
    assert _token_requests(emulator) == 0


def test_oauth_server_off_the_allow_list_is_never_called(emulator, redis_url):
    tokens = install_oauth_app(emulator)
    client, _ = memory_client(oauth_credentials(tokens), redis_url, **APP)
    client._refresher.allow_oauth = lambda url: False
    _expire_tokens(emulator)
    with pytest.raises(errors.HostNotAllowed):
        client.call("profile")
    assert _token_requests(emulator) == 0


def test_client_for_checks_the_allow_list_from_settings(emulator, redis_url):
    tokens = install_oauth_app(emulator)
    conn = redis.Redis.from_url(redis_url)
    store = RedisTokenStore(conn)
    store.put(oauth_credentials(tokens, "m-svc"))
    allowed = Settings(
        emulator_address=emulator.domain, b24_client_id=CLIENT_ID, b24_client_secret=CLIENT_SECRET
    )
    client = client_for("m-svc", SimpleNamespace(settings=allowed, redis=conn, token_store=store))
    _expire_tokens(emulator)
    assert client.call("profile")["ID"] == "1"  # portal and OAuth server both on the list
    stranger = client_for(
        "m-svc", SimpleNamespace(settings=Settings(), redis=conn, token_store=store)
    )
    before = len(request_log(emulator))
    with pytest.raises(errors.HostNotAllowed):
        stranger.call("profile")
    assert len(request_log(emulator)) == before
