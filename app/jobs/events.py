"""RQ jobs of the event inbox: ``drain_changes``, ``process_change``, ``catch_up_offline``,
``confirm_portal_address``, ``reconcile``.

Arguments are plain values; each job builds the portal's context from the worker's
Services, re-reads state, is safe to run twice and raises on failure (RQ retries it).
"""

from __future__ import annotations

import logging
import time
from contextlib import suppress
from dataclasses import asdict, replace
from typing import Any

from app.rules.naming import resolve_entity
from app.store import inbox
from app.sync import dirty, echoes, offline, ridealong, round_cost
from app.sync import reconcile as reconciliation
from app.sync.context import portal_context
from app.sync.process import JOB, process_record

log = logging.getLogger(__name__)


DRAIN_BATCH = 50  # dirty records taken per round: read together, written back together
# then a fresh drain job continues at the back of the queue: one round per turn, so a
# bursting portal takes turns with every other portal's drain (fairness, docs/events.md)
DRAIN_ROUNDS = 1
# Fairness with the portal's rate limit (docs/events.md, "Handing the turn back"): before a
# round the drain asks the portal's limiter for what the round will cost — learnt per portal
# by app.sync.round_cost, not a constant — so a round it starts does not sleep in the
# limiter holding its worker. While the bucket cannot hold the round:
# - another job waits in the events queue: run the part that fits now when that is at least
#   HANDBACK_MIN_SHARE of the round (requests stay well used), else hand the turn back —
#   re-schedule the drain (enqueue_in) for when the bucket holds the round, delay capped at
#   HANDBACK_MAX so a saturated bucket (a 503) cannot park the portal for long;
# - no other job waits: wait in the worker (sleeping costs nobody then), looking every
#   HANDBACK_POLL seconds whether a job came meanwhile (then hand back as above).
# The limiter still has the last word: the estimate reads the bucket, it reserves nothing.
HANDBACK_ENABLED = True
HANDBACK_MIN_SHARE = 0.5
HANDBACK_POLL = 0.05
HANDBACK_MAX = 30.0
# While other portals are active (drained within ACTIVE_WINDOW seconds), a busy portal's
# round is sized to SHARED_TURN seconds of worker time (its rounds' measured time per record,
# app.sync.round_cost), not DRAIN_BATCH: the quiet portals' leads queue behind a busy
# round's CPU time too, not only behind its requests (bench/RESULTS.md, #22).
ACTIVE_KEY = "b24:drain:active"
ACTIVE_WINDOW = 10.0
SHARED_TURN = 0.2
SHARED_MIN = 5


def drain_changes(member_id: str) -> dict[str, Any]:
    """Process the portal's dirty records, a group per round (the inbox's drain).

    Scheduled by the inbox when no drain is (see ``app.sync.dirty``); at most one runs per
    portal. Each round takes up to :data:`DRAIN_BATCH` dirty records — whatever arrived
    together, or one lead alone, at once — and processes them as a group
    (``app.sync.group``: one read per ~50 commands, the write-backs together). Entries
    are removed only after processing, and only if no event arrived meanwhile; a crash
    leaves them dirty for the next drain. After :data:`DRAIN_ROUNDS` rounds the drain
    re-enqueues itself behind the other portals' drains: one portal's burst holds one
    worker at a time and takes turns with the others (docs/events.md). Before a round it
    sizes the round to a short turn while other portals are active (:func:`_round_size`),
    steps behind waiting jobs once (:func:`_yields`) and fits the round to the portal's
    bucket — waiting, or handing its turn back — so that it does not sleep in the rate
    limiter holding its worker (:func:`_fit_round`)."""
    services = _services()
    redis = services.redis
    processed = records = 0
    ctx = None
    # what the rounds cost and waited, returned with the job's result (RQ keeps it): how the
    # fairness bench (bench/portal_fairness.py) sees where a busy portal's time went
    spent = {"waited_s": 0.0, "requests": 0, "estimated": 0, "limiter_s": 0.0}
    for _ in range(DRAIN_ROUNDS):
        taken = dirty.take(redis, member_id, _round_size(redis, member_id))
        if not taken:
            if dirty.finish(redis, member_id):
                return {"records": records, "processed": processed, "continued": False, **spent}
            continue  # an event landed between take and finish
        if HANDBACK_ENABLED and _yields(services, len(taken)):
            from app.queues import enqueue

            enqueue(services, "events", "app.jobs.events.drain_changes", member_id,
                    meta={"yielded": True})  # fmt: skip
            return {"records": records, "processed": processed, "continued": True,
                    "yielded": True, **spent}  # fmt: skip
        free = round_cost.free(redis, member_id, taken)
        if HANDBACK_ENABLED:
            started = time.monotonic()
            fits, delay, estimated = _fit_round(services, member_id, free.count(False))
            spent["waited_s"] += round(time.monotonic() - started, 3)
            if not delay:
                taken, free = _reading_prefix(taken, free, fits)
            elif free[0]:  # the echoes ahead of the first read cost nothing: they go now
                taken, free = _reading_prefix(taken, free, 0)
            elif _hand_back(services, member_id, delay):
                return {"records": records, "processed": processed, "continued": True,
                        "handed_back": delay, **spent}  # fmt: skip
            spent["estimated"] += estimated
        ctx = ctx or portal_context(services, member_id)
        sent, slept = _requests_sent(ctx)
        started = time.monotonic()
        left = _process_taken(services, ctx, taken)
        sent_after, slept_after = _requests_sent(ctx)
        round_cost.record(
            redis, member_id, sent_after - sent, free.count(False), len(taken),
            time.monotonic() - started - (slept_after - slept),
        )  # fmt: skip
        spent["requests"] += sent_after - sent
        spent["limiter_s"] += round(slept_after - slept, 3)
        processed += len(taken) - len(left)
        records += len(taken)
        # a deferred record stays dirty with its old score: first in the next round
        dirty.done(redis, member_id, [t for t in taken if t not in left])
    if dirty.finish(redis, member_id):  # the last round took the last of them
        return {"records": records, "processed": processed, "continued": False, **spent}
    from app.queues import enqueue

    enqueue(services, "events", "app.jobs.events.drain_changes", member_id)  # flag stays up
    return {"records": records, "processed": processed, "continued": True, **spent}


def _round_size(redis: Any, member_id: str) -> int:
    """:data:`DRAIN_BATCH` records, or — while other portals drained within
    :data:`ACTIVE_WINDOW` seconds — as many as this portal's rounds process in
    :data:`SHARED_TURN` seconds of worker time (at least :data:`SHARED_MIN`): a quiet
    portal's lead arriving meanwhile waits at most about that long for this worker."""
    now = time.time()
    pipe = redis.pipeline(transaction=False)
    pipe.zadd(ACTIVE_KEY, {member_id: now})
    pipe.zremrangebyscore(ACTIVE_KEY, "-inf", now - ACTIVE_WINDOW)
    pipe.zcard(ACTIVE_KEY)
    pipe.expire(ACTIVE_KEY, int(ACTIVE_WINDOW) * 2)
    if pipe.execute()[2] <= 1:
        return DRAIN_BATCH  # alone: the biggest round, the fewest requests per record
    per = round_cost.seconds_per_record(redis, member_id) or round_cost.PRIOR_SECONDS
    return min(DRAIN_BATCH, max(SHARED_MIN, int(SHARED_TURN / per)))  # never above the batch


def _yields(services: Any, records: int) -> bool:
    """A busy portal's drain (a round of at least :data:`SHARED_MIN` records) that finds
    other jobs waiting in the events queue goes behind them once before its round: they
    came while it waited its turn, and a round holds a worker for a while. Only once per
    turn (the job's ``yielded`` meta), so drains never keep stepping aside for each other."""
    if records < SHARED_MIN or not services.queue("events").count:
        return False
    return not _already_yielded()


def _already_yielded() -> bool:
    """True when this drain job stepped aside once already — or runs outside an RQ job (a
    direct call: there is no queue turn to give up)."""
    from rq import get_current_job

    job = get_current_job()
    return job is None or bool(job.meta.get("yielded"))


def _reading_prefix(taken: list, free: list[bool], reading: int) -> tuple[list, list[bool]]:
    """The longest head of ``taken`` holding at most ``reading`` records that need a read
    (free ones ride along: they cost no request)."""
    n = 0
    for at, is_free in enumerate(free):
        if not is_free:
            if n == reading:
                return taken[:at], free[:at]
            n += 1
    return taken, free


def _fit_round(services: Any, member_id: str, reading: int) -> tuple[int, float, int]:
    """``(how many of the round's reading records to process now, 0, estimated cost)``, or
    ``(0, delay, cost)``: hand the turn back for ``delay`` seconds. Waits here (polling)
    while the bucket refills and no other job waits in the events queue — see the comment
    at :data:`HANDBACK_ENABLED`."""
    if not reading:
        return 0, 0.0, 0  # nothing to read: no request to wait for
    client = services.portal(member_id)
    drain = client.limits.rate_drain
    # a round the bucket could never hold whole waits for an empty bucket at most
    per_record = round_cost.per_record(services.redis, member_id)
    cost = min(round_cost.estimate(per_record, reading), client.limits.capacity("events"))
    events = services.queue("events")
    deadline = time.monotonic() + HANDBACK_MAX
    while True:
        room = client.room("events")
        if room >= cost or time.monotonic() >= deadline:
            return reading, 0.0, cost  # past the deadline the limiter alone decides
        if events.count:
            part = round_cost.fitting(per_record, reading, room)
            if part >= max(1, reading * HANDBACK_MIN_SHARE):
                return part, 0.0, round_cost.estimate(per_record, part)
            return 0, min((cost - room) / drain, HANDBACK_MAX), cost
        time.sleep(min(HANDBACK_POLL, (cost - room) / drain))


def _requests_sent(ctx) -> tuple[int, float]:
    """Requests the portal's gateway client has sent so far, and the seconds it slept in the
    rate limiter (its ``stats``)."""
    stats = getattr(getattr(ctx, "client", None), "stats", None) or {}
    return int(stats.get("requests", 0)), float(stats.get("rate_wait_seconds", 0.0))


def _hand_back(services: Any, member_id: str, delay: float) -> bool:
    """Schedule this portal's next drain ``delay`` seconds from now (RQ's scheduler moves it
    to the back of the events queue when due) with the "drain scheduled" flag kept up that
    long, so neither an event nor the clock's safety net starts a second drain meanwhile.
    False when it could not be scheduled: the caller drains now, as without a hand-back."""
    from app.queues import enqueue_in

    dirty.keep_scheduled(services.redis, member_id, delay)
    try:
        enqueue_in(
            services, "events", delay, "app.jobs.events.drain_changes", member_id,
            meta={"handed_back": delay},
        )  # fmt: skip
    except Exception as exc:  # Redis trouble: drain now; the flag is ours either way
        log.warning("drain %s not handed back: %s", member_id, type(exc).__name__)
        return False
    log.info("drain %s hands its turn back for %.1fs (bucket refilling)", member_id, delay)
    return True


def _process_taken(services: Any, ctx, taken: list[tuple[str, int, str]]) -> list:
    """Process one round's records together; returns the taken entries deferred to the
    next round (read before this round's writes touched them). A record that failed alone
    (its read, its lock held by another job) is handed to its own ``process_change`` job,
    which retries it. A failure of the whole group raises: the entries stay dirty, RQ
    retries the drain."""
    from app.sync.group import DEFERRED, process_records

    by_stable = {(resolve_entity(ctx.naming, t[0]), int(t[1])): t for t in taken}
    ride = None
    reason = ctx.offline_checks and ridealong.due(ctx.redis, ctx.member_id, OFFLINE_FALLBACK)
    if reason:
        ride = ridealong.RideAlong(ctx, fallback=OFFLINE_FALLBACK, reason=reason)
    try:
        outcomes = process_records(replace(ctx, client=ride) if ride else ctx, list(by_stable))
    except BaseException:
        if ride is not None:
            with suppress(Exception):  # the round's own failure is the one to report
                ride.finish()
        raise
    if ride is not None:
        ride.finish()
    failed, left = [], []
    for key, outcome in outcomes.items():
        if outcome is DEFERRED:
            left.append(by_stable[key])
        elif isinstance(outcome, Exception):
            log.warning("drain %s %s: %s; retried alone", ctx.member_id, key, outcome)
            failed.append(by_stable[key])
        elif outcome.errors:
            log.warning("process %s %s: %s", ctx.member_id, key, outcome.errors)
    if failed:
        _enqueue_changes(services, ctx.member_id, failed)
    return left


def _enqueue_changes(services: Any, member_id: str, taken: list[tuple[str, int, str]]) -> int:
    """Mark each record pending (``SET NX``) and enqueue ``process_change`` for those that
    were not: two round trips for the whole batch. On failure the markers are dropped again
    and the error propagates (RQ retries the drain; the entries are still dirty)."""
    from app.queues import default_retry

    keys = [inbox.pending_key(member_id, JOB, entity, rid) for entity, rid, _ in taken]
    pipe = services.redis.pipeline(transaction=False)
    for key in keys:
        pipe.set(key, b"1", nx=True, ex=inbox.PENDING_TTL)
    claimed = {key for key, ok in zip(keys, pipe.execute(), strict=True) if ok}
    if not claimed:
        return 0
    queue = services.queue("events")
    redis_pipe = services.redis.pipeline()
    for (entity, rid, _), key in zip(taken, keys, strict=True):
        if key in claimed:
            queue.enqueue_call(
                "app.jobs.events.process_change",
                args=[member_id, entity, rid],
                retry=default_retry(),
                on_failure=back_to_drain_when_exhausted,
                pipeline=redis_pipe,
            )
    try:
        redis_pipe.execute()
    except Exception:
        services.redis.delete(*claimed)
        raise
    return len(claimed)


def back_to_drain_when_exhausted(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ failure callback of ``process_change``: :func:`app.queues.give_up_unless_retryable`,
    and when this failure is its last (no retries left) and was not the record's own fault —
    a worker killed under it (``AbandonedJobError``), a lock still held, a portal error a
    retry cures — the record goes back into the drain's dirty set instead of being lost: the
    job had taken it out of the drain (bench/chaos.py: with a worker killed every 20 s a job
    waiting 30 s for a dead worker's record lock was killed four times, and the lead's
    creation was first seen at its next move, from another stage). A real failure stays
    failed, in sight (``b24 jobs failed``)."""
    from rq.exceptions import AbandonedJobError

    from app.portal.errors import is_retryable
    from app.queues import give_up_unless_retryable

    give_up_unless_retryable(job, connection, exc_type, exc_value, traceback)
    if job.retries_left:
        return  # RQ retries it
    transient = (
        isinstance(exc_value, AbandonedJobError)
        or getattr(exc_value, "retryable", None) is True
        or (exc_value is not None and is_retryable(exc_value))
    )
    if not transient:
        return
    member_id, entity, record_id = job.args
    dirty.mark(connection, member_id, [dirty.entry(entity, int(record_id))])
    log.warning("process_change %s %s %s gave up: back to the drain", member_id, entity, record_id)


def process_change(member_id: str, entity: str, record_id: int) -> dict[str, Any]:
    """Diff one record with the mirror and run the portal's rules on what changed.

    ``entity`` is what the inbox derived from the event (``"lead"`` …, or
    ``"dynamic:<entityTypeId>"`` for smart-process items, mapped here to its stable code)."""
    services = _services()
    # The inbox set the pending marker under the entity name it knew: clear that one before
    # reading, so an event arriving from now on enqueues a fresh job.
    inbox.clear_pending(services.redis, inbox.pending_key(member_id, JOB, entity, record_id))
    ctx = portal_context(services, member_id)
    result = process_record(ctx, resolve_entity(ctx.naming, entity), int(record_id))
    if result.errors:
        log.warning("process_change %s %s %s: %s", member_id, entity, record_id, result.errors)
    return asdict(result)


def catch_up_offline(member_id: str) -> dict[str, Any]:
    """Drain the portal's offline-event queue (the clock: after an ONOFFLINEEVENT notice,
    the fallback interval, start-up). The announcement is taken before draining, so a
    notice arriving meanwhile asks for the next slot; so does a drain that found rows."""
    services = _services()
    inbox.clear_pending(services.redis, inbox.pending_key(member_id, "offline", "-", 0))
    services.redis.delete(dirty.announced_key(member_id))
    result = offline.catch_up(portal_context(services, member_id))
    if result.handed:
        schedule_drain(services, member_id)
    if result.fresh_rows:
        # rows queued after our read may have come within the portal's notice throttle
        # (minTimeout) and go unannounced: look once more at the next slot; a drain that
        # finds the queue empty ends the episode. Rows a drain's check handed over were
        # found by that check: nothing new to look for.
        dirty.announce_offline(services.redis, member_id)
    return asdict(result)


def confirm_portal_address(member_id: str) -> dict[str, Any]:
    """An event proved by the application token named another domain than the stored one:
    the portal may have been renamed. Learn its address the verified way — a token refresh at
    the stored OAuth server, whose answer names the portal's ``client_endpoint`` (adopted by
    the refresher only for this member_id and an allow-listed host) — never from the event.
    """
    services = _services()
    before = _stored_domain(services, member_id)
    services.portal(member_id).refresh_now()
    after = _stored_domain(services, member_id)
    if after != before:
        log.info("portal %s renamed: the stored domain follows the OAuth answer", member_id)
    else:
        log.info("portal %s: the OAuth answer names the stored domain; nothing changed", member_id)
    return {"changed": after != before}


def _stored_domain(services: Any, member_id: str) -> str | None:
    from app.store import installations

    with services.session() as session:
        row = installations.get(session, member_id)
        return row.domain if row is not None else None


def reconcile(member_id: str) -> dict[str, Any]:
    """The periodic safety net: list the records modified since the last reconciliation and
    hand those the mirror missed to the event drain (``app.sync.reconcile``, ``hand_over``)."""
    services = _services()
    inbox.clear_pending(services.redis, inbox.pending_key(member_id, "reconcile", "-", 0))
    ctx = portal_context(services, member_id)
    result = reconciliation.reconcile(ctx, hand_over=True)
    if result.handed:
        schedule_drain(services, member_id)
    refresh_people(ctx)  # names and the portal's clock for pages and reports, hourly
    if result.errors:
        # raise so the failure is visible in RQ; the watermark did not move, nothing is lost
        raise RuntimeError(
            f"reconcile {member_id}: {len(result.errors)} records failed: {result.errors[:3]}"
        )
    return asdict(result)


def refresh_people(ctx) -> None:
    """``app.people.refresh_if_stale``; a failure (e.g. no ``user`` scope) costs only names."""
    from datetime import UTC, datetime

    from app import people
    from app.portal.errors import PortalError

    try:
        people.refresh_if_stale(ctx.session_factory, ctx.client, ctx.member_id, datetime.now(UTC))
    except PortalError as exc:
        log.warning("portal people not refreshed: %s", exc)


# How often the clock may enqueue each safety-net job per portal (seconds). The offline
# catch-up runs that often only when the portal announced rows (ONOFFLINEEVENT), otherwise
# every OFFLINE_FALLBACK (a lost notice, the web down while the clock ran).
EVERY = {"catch_up_offline": 60, "reconcile": 15 * 60}
OFFLINE_FALLBACK = 15 * 60
# How long announced rows wait for a drain round to check them in a batch it sends anyway
# before the clock checks them itself (app.sync.ridealong).
RIDE_GRACE = 30
QUEUE = "sync"
_MARK = {"catch_up_offline": "offline", "reconcile": "reconcile"}  # pending-marker names


def enqueue_safety_nets(services: Any, *, force: bool = False) -> list[tuple[str, str]]:
    """Re-schedule the drain of records left dirty (no drain scheduled), and enqueue offline
    catch-up and reconciliation for every active installation, each at most once per
    :data:`EVERY` interval (a Redis ``SET NX EX`` per portal and job). Call it
    from the clock's tick and once at start-up (``force=True`` ignores the intervals, so
    whatever happened while the app was down is drained at once). Offline events exist only
    for OAuth apps; webhook installations get reconciliation only. Returns what was enqueued.
    """
    from sqlalchemy import select

    from app.queues import enqueue
    from app.store.installations import Installation

    with services.session() as session:
        rows = session.execute(
            select(Installation.member_id, Installation.auth_mode).where(
                Installation.status == "active"
            )
        ).all()
    out = []
    for member_id, auth_mode in rows:
        # records whose write-back died in flight: their echo marker may have swallowed a
        # person's edit, so they are read once more (app.sync.echoes)
        dirty.mark(services.redis, member_id, echoes.sweep_stale(services.redis, member_id))
        # records left dirty by a drain that died (its flag expired) and no event since
        if schedule_drain(services, member_id):
            out.append(("drain_changes", member_id))
        for job, every in EVERY.items():
            if job == "catch_up_offline" and auth_mode != "oauth":
                continue
            gate = f"b24:every:{job}:{member_id}"
            if force:
                services.redis.set(gate, b"1", ex=every)
                if job == "catch_up_offline":
                    services.redis.set(_fallback_gate(member_id), b"1", ex=OFFLINE_FALLBACK)
            elif job == "catch_up_offline" and not _offline_due(services.redis, member_id):
                continue
            elif job != "catch_up_offline" and not services.redis.set(
                gate, b"1", nx=True, ex=every
            ):
                continue
            if not inbox.mark_pending(
                services.redis, inbox.pending_key(member_id, _MARK[job], "-", 0)
            ):
                continue  # one is queued already (e.g. a catch-up from ONOFFLINEEVENT)
            enqueue(services, QUEUE, f"app.jobs.events.{job}", member_id)
            out.append((job, member_id))
    return out


def schedule_drain(services: Any, member_id: str) -> bool:
    """Enqueue a drain for records marked dirty without an event (a drain that died, a
    reconcile's or the echo sweep's hand-over) unless one is scheduled. True if enqueued."""
    from app.queues import enqueue

    if not dirty.schedule_if_idle(services.redis, member_id):
        return False
    try:
        enqueue(services, "events", "app.jobs.events.drain_changes", member_id)
    except Exception:
        dirty.unschedule(services.redis, member_id)
        raise
    return True


def _fallback_gate(member_id: str) -> str:
    return f"b24:every:offline_fallback:{member_id}"


def _offline_due(redis: Any, member_id: str, now: float | None = None) -> bool:
    """Announced rows that no drain round's ride-along check took within
    :data:`RIDE_GRACE` (the online delivery brings a drain within a second or so; none came:
    it probably missed something): at most once per ``EVERY["catch_up_offline"]``. None
    announced: once per :data:`OFFLINE_FALLBACK` (a ride-along check resets that gate)."""
    first = dirty.announced_since(redis, member_id)
    if first is not None and ridealong.late_notices(redis, member_id):
        first = None  # they announced rows a drain's check already took
    if first is not None:
        if (time.time() if now is None else now) - first < RIDE_GRACE:
            return False
        gate, every = f"b24:every:catch_up_offline:{member_id}", EVERY["catch_up_offline"]
    else:
        gate, every = _fallback_gate(member_id), OFFLINE_FALLBACK
    return bool(redis.set(gate, b"1", nx=True, ex=every))


def enqueue_catch_up(member_id: str, delay: float = 0.0) -> bool:
    """Enqueue the standalone offline catch-up (in ``delay`` seconds), unless one is pending
    (a drain's ride-along check handed rows over: ``app.sync.ridealong``)."""
    from app.queues import enqueue, enqueue_in

    services = _services()
    key = inbox.pending_key(member_id, _MARK["catch_up_offline"], "-", 0)
    if not inbox.mark_pending(services.redis, key):
        return False
    try:
        if delay:
            meta = {"offline_handover": delay}
            enqueue_in(services, QUEUE, delay, "app.jobs.events.catch_up_offline", member_id,
                       meta=meta)  # fmt: skip
        else:
            enqueue(services, QUEUE, "app.jobs.events.catch_up_offline", member_id)
    except Exception:
        services.redis.delete(key)
        raise
    return True


def _services() -> Any:
    """The worker's Services (built once per process by the worker composition root)."""
    from app.services import current

    return current()
