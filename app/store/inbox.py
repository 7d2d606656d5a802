"""The event inbox in Redis: delivery claims and per-record coalescing.

Two kinds of keys (all with a TTL, so a lost Redis loses nothing durable):

``b24:evt:<member>:<digest>``  — one per delivered event (``SET NX EX``). The digest covers
    the event name, handler id, ``ts`` and the ``data`` payload: a replayed POST repeats all
    of them, so it finds the key taken. Two *different* changes of one record within the
    same second look identical too (the portal sends only the ID and a seconds ``ts``);
    :func:`admit` therefore lets a duplicate whose ``ts`` is fresh still mark the record
    dirty — an extra re-read costs one fetch and finds nothing, a lost update would cost a
    missed rule. The claim itself is taken by ``app.sync.dirty.admit`` (one round trip
    together with marking the record dirty).

``b24:pending:<member>:<job>:<entity>:<id>`` — "a job for this record is queued". The
    drain (``app.jobs.events.drain_changes``) sets it when it enqueues ``process_change``
    and skips records whose job is still queued. The job deletes it *before* it reads the
    record, so an event that lands while the job runs leads to one more job — which reads
    the newest state. A burst of N events thus becomes one or two jobs.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

CLAIM_TTL = 24 * 3600  # replays later than this are rare and harmless (the diff is empty)
PENDING_TTL = 300  # a crashed job's marker blocks new jobs for at most this long
FRESH_SECONDS = 5  # a duplicate this close to "now" may be a genuine same-second change


def event_digest(
    event: str, handler_id: str | None, ts: str | None, data: Mapping[str, Any] | None
) -> str:
    blob = json.dumps(
        [event.upper(), handler_id or "", ts or "", data or {}], sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:40]


def is_fresh(ts: str | None, now: float | None = None) -> bool:
    """True when ``ts`` is within :data:`FRESH_SECONDS` of now (a same-second change may
    hide behind an identical-looking event)."""
    now = time.time() if now is None else now
    try:
        return abs(now - int(ts or 0)) <= FRESH_SECONDS
    except ValueError:
        return False


def pending_key(member_id: str, job: str, entity: str, record_id: int | str) -> str:
    return f"b24:pending:{member_id}:{job}:{entity}:{record_id}"


def mark_pending(redis, key: str) -> bool:
    """True when this caller must enqueue the job (no job was pending for the key)."""
    return bool(redis.set(key, b"1", nx=True, ex=PENDING_TTL))


def clear_pending(redis, key: str) -> None:
    """Called by the job before it reads state: later events will enqueue a fresh job."""
    redis.delete(key)
