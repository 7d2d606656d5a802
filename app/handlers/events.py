"""``POST /events``: the portal's outbound events (app bindings and outgoing webhooks).

Parse, authenticate, claim and mark the record dirty (one Redis round trip), answer —
never call the portal here, and enqueue only when no drain is scheduled. The decisions
live in ``app.sync.intake.accept``; this module only adapts Flask, the installation store
(with a short in-process cache, re-read once on a token mismatch so a rotated token is
picked up at once) and the queues.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Response, current_app, request

from app.handlers.forms import FormError, parse_body
from app.security import tokens_match
from app.sync.intake import Installation, accept

log = logging.getLogger(__name__)

bp = Blueprint("events", __name__)

MAX_BODY = 64 * 1024  # a real event is < 2 KiB; anything near this is not from a portal
CACHE_SECONDS = 5.0
JOBS = {
    "drain_changes": ("events", "app.jobs.events.drain_changes"),
    "process_change": ("events", "app.jobs.events.process_change"),
    "catch_up_offline": ("sync", "app.jobs.events.catch_up_offline"),
    "confirm_address": ("sync", "app.jobs.events.confirm_portal_address"),
}

# (id of the Services, member_id) → (read at, installation): one web process serves one
# Services, tests build many
_cache: dict[tuple[int, str], tuple[float, Installation | None]] = {}


@bp.post("/events")
def receive_event() -> Response:
    """Verify and enqueue one event; 200 fast, 4xx with nothing enqueued when refused."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return Response("payload too large", status=413)
    raw = request.get_data(cache=False, as_text=False)
    if len(raw) > MAX_BODY:
        return Response("payload too large", status=413)
    try:
        form = parse_body(raw, max_body=MAX_BODY)
    except FormError as exc:
        return Response(f"malformed form: {exc}", status=400)
    services = _services()
    verdict = accept(
        form,
        find=lambda member_id: _find(services, member_id),
        refind=lambda member_id: _find(services, member_id, fresh=True),
        tokens_match=tokens_match,
        redis=services.redis,
        enqueue=lambda job, *args: _enqueue(services, job, *args),
    )
    return Response(verdict.body, status=verdict.status, mimetype="text/plain")


def _find(services: Any, member_id: str, *, fresh: bool = False) -> Installation | None:
    now = time.monotonic()
    key = (id(services), member_id)
    hit = _cache.get(key)
    if hit and not fresh and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    found = _load_installation(services, member_id)
    if len(_cache) > 10_000:  # unknown member ids must not grow the cache without bound
        _cache.clear()
    _cache[key] = (now, found)
    return found


def _load_installation(services: Any, member_id: str) -> Installation | None:
    from app.store import installations

    with services.session() as session:
        row = installations.get(session, member_id)
        # an uninstalled portal has no token any more; one never confirmed has none yet
        if row is None or row.status == "uninstalled" or not row.application_token:
            return None
        return Installation(member_id, row.application_token, row.domain)


def _enqueue(services: Any, job: str, *args: Any) -> None:
    """``app.queues.enqueue`` semantics (default retry policy, give-up callback, plain
    args) in ONE Redis round trip: RQ writes the job through our pipeline. Only a drain
    (when none is scheduled) or an offline catch-up gets here, not every event."""
    from app.jobs.events import back_to_drain_when_exhausted
    from app.queues import default_retry, give_up_unless_retryable

    queue_name, path = JOBS[job]
    pipe = services.redis.pipeline()
    services.queue(queue_name).enqueue_call(
        path,
        args=list(args),
        retry=default_retry(),
        on_failure=(
            back_to_drain_when_exhausted if job == "process_change" else give_up_unless_retryable
        ),
        pipeline=pipe,
    )
    pipe.execute()


def _services() -> Any:
    return current_app.extensions["services"]
