"""Survey answers whose ``record_nps`` job never ran go back on the queue (the clock's net).

The survey page stores the answer first (that row makes the link single-use) and then
enqueues the job that writes it to the portal. When Redis is down at that moment the
client is still thanked — the answer is safe in SQL — but no job exists; a job lost with
an emptied Redis, or one that used up its retries, leaves the same trace: ``written_at``
empty. :func:`sweep` (called by the timers clock every tick, acting at most once a
minute) re-enqueues such answers once they are :data:`STALE_AFTER` old (the normal job has
had its chance), each at most once per :data:`GATE_TTL` (a Redis ``SET NX EX``), for
:data:`GIVE_UP_AFTER` and for active installations only. The job is idempotent (its
writes are keyed on the deal), so a second run writes nothing twice.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)

JOB = "app.jobs.nps.record_nps"
STALE_AFTER = timedelta(minutes=10)
GIVE_UP_AFTER = timedelta(days=7)
GATE_TTL = 3600  # seconds between two re-queues of one answer
SWEEP_EVERY_S = 60.0
_last_sweep = [float("-inf")]


def enqueue_record(services: Any, member_id: str, deal_id: int) -> None:
    """Enqueue the job writing deal ``deal_id``'s answers (raises when Redis is down)."""
    from app.queues import enqueue

    enqueue(
        services, "sync", JOB, member_id, int(deal_id),
        job_id=f"nps-{member_id}-{deal_id}"[:120],
        description=f"record_nps {member_id} {deal_id}",
    )  # fmt: skip


def requeue_unwritten(services: Any, now: datetime | None = None) -> list[tuple[str, int]]:
    """Re-enqueue the unwritten answers due for it; returns the (member_id, deal_id) sent."""
    from sqlalchemy import select

    from app.store import nps
    from app.store.base import utcnow
    from app.store.installations import Installation

    now = now or utcnow()
    with services.session() as session:
        rows = nps.unwritten(session, now - STALE_AFTER, now - GIVE_UP_AFTER)
        active = set(
            session.scalars(select(Installation.member_id).where(Installation.status == "active"))
        )
    sent = []
    for member_id, deal_id in rows:
        if member_id not in active:
            continue  # uninstalled (or not yet confirmed): nothing to write to
        gate = f"b24:nps:requeue:{member_id}:{deal_id}"
        if not services.redis.set(gate, b"1", nx=True, ex=GATE_TTL):
            continue
        enqueue_record(services, member_id, deal_id)
        sent.append((member_id, deal_id))
    if sent:
        log.info("survey answers re-queued for writing: %s", len(sent))
    return sent


def sweep(services: Any, *, force: bool = False) -> int:
    """:func:`requeue_unwritten`, at most once a minute; never raises (the clock must keep
    ticking — Redis still down means the answers wait for a later tick)."""
    at = time.monotonic()
    if not force and at - _last_sweep[0] < SWEEP_EVERY_S:
        return 0
    _last_sweep[0] = at
    try:
        return len(requeue_unwritten(services))
    except Exception:  # noqa: BLE001
        log.exception("survey answer sweep failed")
        return 0
