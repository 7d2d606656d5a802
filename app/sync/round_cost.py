"""What a drain round costs in portal requests, learnt per portal from the rounds it ran.

A round of ``n`` records costs a few batches whatever ``n`` is (a read, a write: each
request carries up to 50 commands) plus more as ``n`` grows (related reads, several
commands written per record, Objects created): about ``fixed + n × per_record``. The drain
(``app.jobs.events.drain_changes``) asks the portal's limiter for that many requests before
a round, so that a round it starts does not then sleep in the limiter holding its worker.

``per_record`` is measured, not guessed: after each round the requests it sent (the
gateway client counts them) beyond the fixed part, divided by its records, go into a
decaying average in Redis (one hash per portal, short TTL: a portal's rules and data change,
and an idle portal's old figure means little). Larger rounds weigh more, since they say more
about the per-record part. Until a portal has run a round the estimate is the fixed part
plus :data:`PRIOR_PER_RECORD` per record.
"""

from __future__ import annotations

import math
from typing import Any

FIXED = 2  # a read and a write: the least any round that reads costs
PRIOR_PER_RECORD = 0.1  # a metal web-form lead in a 50-lead round (bench/RESULTS.md, #22)
DECAY = 0.5  # weight of the past against the newest round
TTL = 15 * 60


def key(member_id: str) -> str:
    return f"b24:drain:cost:{member_id}"


def per_record(redis: Any, member_id: str) -> float:
    """Requests per record beyond the fixed part, as this portal's last rounds cost."""
    extra, records = redis.hmget(key(member_id), "extra", "records")
    if not records or float(records) <= 0:
        return PRIOR_PER_RECORD
    return float(extra or 0.0) / float(records)


def estimate(per_record: float, records: int) -> int:
    """Requests a round of ``records`` records will send (at least :data:`FIXED`), at
    ``per_record`` requests per record beyond the fixed part (:func:`per_record`)."""
    if records <= 0:
        return 0
    return FIXED + math.ceil(records * per_record - 1e-9)


def fitting(per_record: float, records: int, room: float) -> int:
    """The most of ``records`` whose round's :func:`estimate` is within ``room`` requests."""
    if room < FIXED:
        return 0
    if per_record <= 0:
        return records
    # estimate() rounds the per-record part up to whole requests: so must the room
    return max(0, min(records, math.floor((math.floor(room) - FIXED) / per_record + 1e-9)))


def record(redis: Any, member_id: str, requests: int, records: int) -> None:
    """Remember what one round of ``records`` records cost (``requests`` sent)."""
    if records <= 0 or requests <= 0:
        return  # nothing read (echoes settled without a request): says nothing
    extra = max(0, requests - FIXED)
    name = key(member_id)
    old_extra, old_records = redis.hmget(name, "extra", "records")
    pipe = redis.pipeline(transaction=False)
    pipe.hset(
        name,
        mapping={
            "extra": DECAY * float(old_extra or 0.0) + extra,
            "records": DECAY * float(old_records or 0.0) + records,
        },
    )
    pipe.expire(name, TTL)
    pipe.execute()
