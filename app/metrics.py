"""Prometheus metrics shared by every process.

Import the objects and use them (``PORTAL_CALLS.labels(method, "ok").inc()``). Processes
started by ``make run`` (gunicorn workers, RQ workers, clock) share one directory named by
``PROMETHEUS_MULTIPROC_DIR`` (devrun sets it to ``var/metrics`` and empties it at start);
``GET /metrics`` then aggregates all processes with prometheus_client's multiprocess
collector. Without that variable (tests, a single process) the default registry is served.

Labels are low-cardinality on purpose: never put a member_id or record id in a label.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

HTTP_REQUESTS = Counter(
    "b24app_http_requests_total", "HTTP requests handled", ["endpoint", "status"]
)
HTTP_LATENCY = Histogram("b24app_http_request_seconds", "HTTP request duration", ["endpoint"])
JOBS = Counter("b24app_jobs_total", "Jobs finished", ["name", "outcome"])
JOB_DURATION = Histogram("b24app_job_seconds", "Job duration", ["name"])
PORTAL_CALLS = Counter("b24app_portal_calls_total", "Portal REST calls", ["method", "outcome"])
LIMITER_WAIT = Histogram(
    "b24app_limiter_wait_seconds",
    "Time the gateway slept for the shared limits (kind: rate|operating)",
    ["kind", "priority"],
    buckets=(0.0, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
TOKEN_REFRESHES = Counter("b24app_token_refreshes_total", "OAuth token refreshes", ["outcome"])
EVENT_LAG = Histogram(
    "b24app_event_lag_seconds",
    "Seconds between the portal sending an event (ts) and our handling it",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)


def observe_gateway_wait(*, kind: str, priority: str, seconds: float) -> None:
    """Hook called by ``app.portal.limiter`` after each limiter sleep."""
    LIMITER_WAIT.labels(kind, priority).observe(seconds)


def observe_portal_call(method: str, outcome: str) -> None:
    """One portal REST call; ``outcome`` is "ok" or the error class name (low cardinality)."""
    PORTAL_CALLS.labels(method, outcome).inc()


def observe_token_refresh(outcome: str) -> None:
    TOKEN_REFRESHES.labels(outcome).inc()


def observe_event_lag(seconds: float) -> None:
    """Seconds between the portal's ``ts`` and our handling of the event."""
    EVENT_LAG.observe(max(0.0, seconds))


def render() -> tuple[bytes, str]:
    """(body, content type) of the current metrics, aggregated over processes if configured."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
