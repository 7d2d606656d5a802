"""/healthz reports each part and 503 with the failing one; /metrics serves Prometheus text."""

from __future__ import annotations

import redis
from sqlalchemy import create_engine

from app.web import create_app


def test_healthy(flask_client):
    resp = flask_client.get("/healthz")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"store", "schema", "redis", "queues", "workers"}
    assert body["failing"] == []
    # no worker yet, but the app is younger than the window: everything starts together
    assert body["checks"]["workers"] == {"ok": True, "alive": 0, "grace": True}
    assert set(body["checks"]["queues"]["depth"]) == {"robots", "timers", "events", "sync", "bulk"}


def test_redis_down_is_503_naming_redis_and_queues(services):
    services.redis = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    services._queues.clear()
    resp = create_app(services=services).test_client().get("/healthz")
    assert resp.status_code == 503
    checks = resp.get_json()["checks"]
    assert checks["store"]["ok"] is True
    assert checks["redis"]["ok"] is False and checks["queues"]["ok"] is False
    assert resp.get_json()["failing"] == ["queues", "redis", "workers"]


def test_store_down_is_503_naming_the_store(services, tmp_path):
    services.engine = create_engine(f"sqlite:///{tmp_path}/missing-dir/x/app.db")
    resp = create_app(services=services).test_client().get("/healthz")
    assert resp.status_code == 503
    checks = resp.get_json()["checks"]
    assert checks["store"]["ok"] is False and checks["redis"]["ok"] is True


def test_metrics_count_requests_by_endpoint(flask_client):
    flask_client.get("/healthz")
    text = flask_client.get("/metrics").get_data(as_text=True)
    assert 'b24app_http_requests_total{endpoint="health.healthz",status="200"}' in text
    assert "b24app_portal_calls_total" in text or "# HELP b24app_portal_calls_total" in text


def test_gateway_wait_hook_feeds_the_limiter_histogram(flask_client):
    from app.portal.limiter import _observe_wait

    _observe_wait("rate", "robots", 0.7)
    text = flask_client.get("/metrics").get_data(as_text=True)
    assert 'b24app_limiter_wait_seconds_count{kind="rate",priority="robots"}' in text


def _app_started_long_ago(services):
    app = create_app(services=services)
    app.extensions["started_at"] -= 3600
    return app


def test_no_worker_seen_for_a_minute_is_503_naming_workers(services):
    resp = _app_started_long_ago(services).test_client().get("/healthz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["failing"] == ["workers"]
    assert body["checks"]["workers"]["error"] == "no worker seen for 60s"


def test_a_live_worker_makes_health_pass_and_a_silent_one_fails_it(services):
    from app.worker import build_worker

    worker = build_worker(services, ["events"], name="health-probe")
    worker.register_birth()
    try:
        client = _app_started_long_ago(services).test_client()
        resp = client.get("/healthz")
        assert resp.status_code == 200, resp.get_json()
        assert resp.get_json()["checks"]["workers"]["alive"] == 1
        # its last heartbeat two minutes ago (a worker killed with SIGKILL stops beating)
        services.redis.hset(worker.key, "last_heartbeat", "2000-01-01T00:00:00.000000Z")
        resp = client.get("/healthz")
        assert resp.status_code == 503 and resp.get_json()["failing"] == ["workers"]
        # a busy worker counts whatever its heartbeat (SimpleWorker does not beat mid-job)
        services.redis.hset(worker.key, "state", "busy")
        assert client.get("/healthz").status_code == 200
    finally:
        worker.register_death()
