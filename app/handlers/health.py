"""``GET /healthz`` (store, Redis, queues) and ``GET /metrics`` (Prometheus)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from app.handlers import services
from app.queues import QUEUES

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


def check_all(svc) -> dict[str, dict]:
    """Each part's state: ``{"ok": bool, ...}``; failures carry the exception class name."""
    checks: dict[str, dict] = {}
    try:
        with svc.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["store"] = {"ok": True}
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        checks["store"] = {"ok": False, "error": type(exc).__name__}
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
    else:
        checks["queues"] = {"ok": False, "error": "redis unavailable"}
    return checks


@bp.get("/healthz")
def healthz():
    checks = check_all(services())
    ok = all(c["ok"] for c in checks.values())
    if not ok:
        log.warning("healthz failing: %s", {k: v for k, v in checks.items() if not v["ok"]})
    body = {"status": "ok" if ok else "fail", "checks": checks}
    return jsonify(body), 200 if ok else 503


@bp.get("/metrics")
def metrics():
    from app.metrics import render

    body, content_type = render()
    return Response(body, content_type=content_type)
