"""Issue #20: each anonymous request could make the app call the portal's ``app.info``;
the unauthenticated endpoints are now limited per client address."""

from __future__ import annotations

import pytest

from app import ratelimit

# Mid-window, so that counting 61 requests never straddles a window boundary.
_PINNED_NOW = 1_800_000_000 // ratelimit.WINDOW_S * ratelimit.WINDOW_S + ratelimit.WINDOW_S / 2


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch):
    """Hold the limiter's clock still: on a loaded machine a flood of 61 requests can take
    long enough for a real minute boundary to fall inside it, which resets the count (the
    CI run of stop 14 failed so). Tests that need time to pass move it themselves."""
    now = [_PINNED_NOW]
    monkeypatch.setattr(ratelimit, "clock", lambda: now[0])
    return now


def test_a_flood_from_one_client_gets_429_others_are_served(flask_client, services):
    def post(addr):
        return flask_client.post(
            "/install", query_string={"DOMAIN": "a.bitrix24.ru"}, data={},
            environ_base={"REMOTE_ADDR": addr},
        )  # fmt: skip

    answers = [post("203.0.113.7").status_code for _ in range(ratelimit.LIMIT + 5)]
    assert set(answers[: ratelimit.LIMIT]) == {400}  # refused on its merits, not limited
    assert answers[ratelimit.LIMIT :] == [429] * 5
    limited = post("203.0.113.7")
    assert limited.headers["Retry-After"] == str(ratelimit.WINDOW_S)
    assert post("198.51.100.2").status_code == 400  # another client is not affected


def test_widgets_and_app_events_are_limited_too(flask_client):
    env = {"REMOTE_ADDR": "203.0.113.9"}
    for path in ("/widgets/lead_object", "/app-events"):
        codes = [
            flask_client.post(path, data={}, environ_base=env).status_code
            for _ in range(ratelimit.LIMIT + 1)
        ]
        assert 429 not in codes[: ratelimit.LIMIT] and codes[-1] == 429, path


def test_the_next_window_serves_a_limited_client_again(flask_client, pinned_clock):
    env = {"REMOTE_ADDR": "203.0.113.11"}
    codes = [
        flask_client.post("/app-events", data={}, environ_base=env).status_code
        for _ in range(ratelimit.LIMIT + 1)
    ]
    assert codes[-1] == 429
    pinned_clock[0] += ratelimit.WINDOW_S  # the Retry-After the client was given has passed
    assert flask_client.post("/app-events", data={}, environ_base=env).status_code != 429


def test_a_redis_outage_does_not_lock_anyone_out():
    import redis

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    assert ratelimit.over_limit(dead, "install", "203.0.113.7") is False


def _flood(client, forwarded_for, peer="10.0.0.5", n=ratelimit.LIMIT + 1):
    """POST /install ``n`` times from ``peer`` claiming ``forwarded_for``; the status codes."""
    return [
        client.post(
            "/install", query_string={"DOMAIN": "a.bitrix24.ru"}, data={},
            headers={"X-Forwarded-For": forwarded_for(i)}, environ_base={"REMOTE_ADDR": peer},
        ).status_code
        for i in range(n)
    ]  # fmt: skip


def test_without_trusted_proxies_a_spoofed_forwarded_for_changes_nothing(flask_client):
    # TRUSTED_PROXIES=0 (default): a client rotating X-Forwarded-For is still one client
    codes = _flood(flask_client, lambda i: f"192.0.2.{i % 250}")
    assert codes[-1] == 429 and 429 not in codes[:-1]


def test_behind_one_proxy_the_forwarded_client_address_is_limited(make_services):
    from app.web import create_app

    client = create_app(services=make_services(trusted_proxies=1)).test_client()
    # every request arrives from the proxy (10.0.0.5); the clients are told apart
    flooder = _flood(client, lambda i: "203.0.113.7")
    assert flooder[-1] == 429 and 429 not in flooder[:-1]
    other = _flood(client, lambda i: "198.51.100.2", n=1)
    assert other == [400]  # another client behind the same proxy is served
    # the proxy appends the real peer: what the client wrote before it is not believed
    spoofed = _flood(client, lambda i: f"192.0.2.{i}, 203.0.113.7", n=1)
    assert spoofed == [429]


def test_trusted_proxies_setting_is_a_count():
    import pytest

    from config.settings import Settings, SettingsError

    base = {"DATABASE_URL": "sqlite:///x.db"}
    assert Settings.from_env(base, dotenv=False).trusted_proxies == 0
    assert Settings.from_env({**base, "TRUSTED_PROXIES": "2"}, dotenv=False).trusted_proxies == 2
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        Settings.from_env({**base, "TRUSTED_PROXIES": "-1"}, dotenv=False)
