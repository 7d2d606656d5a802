"""``GET /healthz`` (store, schema, Redis, queues, workers) and ``GET /metrics`` (Prometheus,
plus failed jobs per queue and portal read from Redis: ``app.failed_jobs.metrics_text``).

``/healthz`` answers 200 only when the whole pipeline can work: the store answers and is at
the code's migrations, Redis answers, and an RQ worker has been seen within
:data:`WORKER_WINDOW_S` (a busy worker counts: its heartbeat pauses while a long job runs).
Otherwise 503 with ``failing`` naming the checks. A web process younger than the window has
not had the chance to see a worker yet (everything starts together), so the workers check
passes during that grace period and says so (``"grace": true``).
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from app.handlers import services
from app.queues import QUEUES

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)

WORKER_WINDOW_S = 60.0


def check_store(svc) -> tuple[dict, dict]:
    """(store, schema) checks: the store answers, and its revisions are the code's heads."""
    from app.store.migrate import schema_status

    try:
        with svc.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        return {"ok": False, "error": type(exc).__name__}, {
            "ok": False,
            "error": "store unavailable",
        }
    try:
        status = schema_status(svc.engine)
    except Exception as exc:  # noqa: BLE001
        return {"ok": True}, {"ok": False, "error": type(exc).__name__}
    if status.ok:
        return {"ok": True}, {"ok": True}
    return {"ok": True}, {"ok": False, "error": status.message, "missing": status.missing}


def check_workers(redis, *, now: float, started_at: float, window: float = WORKER_WINDOW_S) -> dict:
    """Workers alive within ``window`` seconds: RQ's registry, busy or recently heartbeating."""
    from rq.worker_registration import get_keys

    keys = sorted(k.decode() if isinstance(k, bytes) else k for k in get_keys(connection=redis))
    pipe = redis.pipeline()
    for key in keys:
        pipe.hmget(key, "state", "last_heartbeat")
    alive = 0
    last_seen: float | None = None
    for state, beat in pipe.execute() if keys else []:
        if beat is None:
            continue  # registered but its hash expired: a killed worker
        seen = _parse_utc(beat)
        busy = (state or b"").decode() == "busy"
        last_seen = seen if last_seen is None else max(last_seen, seen)
        if busy or now - seen <= window:
            alive += 1
    check: dict = {"ok": alive > 0, "alive": alive}
    if last_seen is not None:
        check["last_seen_s"] = round(now - last_seen, 1)
    if not alive and now - started_at <= window:
        check.update(ok=True, grace=True)
    elif not alive:
        check["error"] = f"no worker seen for {window:.0f}s"
    return check


def _parse_utc(raw: bytes) -> float:
    from rq.utils import utcparse

    return utcparse(raw.decode()).timestamp()  # RQ stores UTC; utcparse makes it aware


def check_all(svc, *, started_at: float | None = None, now: float | None = None) -> dict[str, dict]:
    """Each part's state: ``{"ok": bool, ...}``; failures carry the reason."""
    now = time.time() if now is None else now
    started_at = now if started_at is None else started_at
    checks: dict[str, dict] = {}
    checks["store"], checks["schema"] = check_store(svc)
    try:
        svc.redis.ping()
        checks["redis"] = {"ok": True}
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = {"ok": False, "error": type(exc).__name__}
    if checks["redis"]["ok"]:
        try:
            depth = {name: svc.queue(name).count for name in QUEUES}
            checks["queues"] = {"ok": True, "depth": depth}
        except Exception as exc:  # noqa: BLE001
            checks["queues"] = {"ok": False, "error": type(exc).__name__}
        try:
            checks["workers"] = check_workers(svc.redis, now=now, started_at=started_at)
        except Exception as exc:  # noqa: BLE001
            checks["workers"] = {"ok": False, "error": type(exc).__name__}
    else:
        checks["queues"] = {"ok": False, "error": "redis unavailable"}
        checks["workers"] = {"ok": False, "error": "redis unavailable"}
    return checks


@bp.get("/healthz")
def healthz():
    started_at = current_app.extensions.get("started_at")
    checks = check_all(services(), started_at=started_at)
    failing = sorted(k for k, v in checks.items() if not v["ok"])
    if failing:
        log.warning("healthz failing: %s", {k: checks[k] for k in failing})
    body = {"status": "fail" if failing else "ok", "failing": failing, "checks": checks}
    return jsonify(body), 503 if failing else 200


@bp.get("/metrics")
def metrics():
    from app.failed_jobs import metrics_text
    from app.metrics import render

    body, content_type = render()
    try:
        body += metrics_text(services())
    except Exception as exc:  # noqa: BLE001 - Redis down: the process metrics still count
        log.warning("failed-job metrics skipped: %s", type(exc).__name__)
    return Response(body, content_type=content_type)
