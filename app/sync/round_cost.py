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
plus :data:`PRIOR_PER_RECORD` per record. Only records that need a read count: the ADD
echo of a record the app created is settled from the mirror (:func:`free`).

The same hash keeps the worker seconds a record took (:func:`seconds_per_record`): while
other portals are active the drain sizes a busy portal's round to a short turn of worker
time (``app.jobs.events.SHARED_TURN``).
"""

from __future__ import annotations

import math
from typing import Any

FIXED = 2  # a read and a write: the least any round that reads costs
PRIOR_PER_RECORD = 0.1  # a metal web-form lead in a 50-lead round (bench/RESULTS.md, #22)
PRIOR_SECONDS = 0.01  # worker seconds per record before a portal's first timed round
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


def record(
    redis: Any, member_id: str, requests: int, reading: int, records: int, seconds: float
) -> None:
    """Remember what one round cost: ``requests`` sent for its ``reading`` records (those
    not settled without a read), ``seconds`` of worker time for all its ``records``."""
    name = key(member_id)
    old = redis.hmget(name, "extra", "records", "seconds", "timed")
    extra, counted, secs, timed = (float(v or 0.0) for v in old)
    mapping = {}
    if reading > 0 and requests > 0:  # a round that read nothing says nothing about reads
        mapping["extra"] = DECAY * extra + max(0, requests - FIXED)
        mapping["records"] = DECAY * counted + reading
    if records > 0:
        mapping["seconds"] = DECAY * secs + max(0.0, seconds)
        mapping["timed"] = DECAY * timed + records
    if not mapping:
        return
    pipe = redis.pipeline(transaction=False)
    pipe.hset(name, mapping=mapping)
    pipe.expire(name, TTL)
    pipe.execute()


def seconds_per_record(redis: Any, member_id: str) -> float | None:
    """Worker seconds a record of this portal's last rounds took (None: no round yet)."""
    secs, timed = redis.hmget(key(member_id), "seconds", "timed")
    if not timed or float(timed) <= 0:
        return None
    return float(secs or 0.0) / float(timed)


def free(redis: Any, member_id: str, taken: list[tuple[str, int, str]]) -> list[bool]:
    """For each taken dirty entry: True when it will cost no request — the ADD echo of a
    record the app created (``app.sync.dirty.remember_created``; the drain's
    ``without_read`` settles it from the mirror). Read-only: the marker stays for it."""
    from app.sync.dirty import ours_key

    pipe = redis.pipeline(transaction=False)
    for entity, record_id, _ in taken:
        pipe.exists(ours_key(member_id, entity, record_id))
    return [bool(n) for n in pipe.execute()]
