"""Issue #20: each anonymous request could make the app call the portal's ``app.info``;
the unauthenticated endpoints are now limited per client address."""

from __future__ import annotations

from app import ratelimit


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


def test_a_redis_outage_does_not_lock_anyone_out():
    import redis

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    assert ratelimit.over_limit(dead, "install", "203.0.113.7") is False
