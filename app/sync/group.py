"""Process the records that changed together: one read for many, their write-backs together.

``process_record`` costs a read and a write per record. When events arrive together (a
web-form burst, an import), the drain (``app.jobs.events.drain_changes``) hands a group of
records to :func:`process_records`:

1. each record's lock is taken without waiting (a busy record is handed back: another job
   is on it);
2. records that need no read (our own ADD echo, a foreign task) are settled at once;
3. the others are read with :func:`app.sync.fetch.fetch_records` — about N × (1 + related)
   / 50 requests instead of N;
4. each is diffed and decided on exactly as ``process_record`` does (the same keys, the
   same causes, so exactly-once holds across the two paths);
5. all their actions go out through one ``apply_groups`` call (batches of 50 commands,
   each group keyed and audited under its own record);
6. each record is settled as ``process_record`` settles it (created records remembered,
   written records mirrored, snapshot stored after the actions).

A record whose read failed comes back as its exception (the caller retries it alone); a
batch refused whole raises — nothing is settled and every record stays dirty.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from app.rules.apply import apply_groups, created_records
from app.rules.effects import written
from app.rules.engine import needed_related
from app.store import inbox
from app.sync import dirty
from app.sync.context import PortalContext
from app.sync.echoes import EchoAwareClient
from app.sync.fetch import fetch_records
from app.sync.gather import pending_conflict, store_needs
from app.sync.process import (
    JOB,
    LOCK_TIMEOUT,
    ProcessResult,
    RecordBusy,
    finish_record,
    mirror_written,
    plan_record,
    without_read,
)

log = logging.getLogger(__name__)

Outcome = ProcessResult | Exception  # or DEFERRED


def process_records(
    ctx: PortalContext, records: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], Outcome]:
    """Run the rules on each of ``records`` (stable entity names) — see module doc."""
    out: dict[tuple[str, int], Outcome] = {}
    locks = []
    try:
        mine = []
        for entity, record_id in dict.fromkeys((e, int(r)) for e, r in records):
            pending = inbox.pending_key(ctx.member_id, JOB, entity, record_id)
            inbox.clear_pending(ctx.redis, pending)
            lock = ctx.redis.lock(
                f"b24:lock:{ctx.member_id}:{entity}:{record_id}", timeout=LOCK_TIMEOUT
            )
            if not lock.acquire(blocking=False):
                out[(entity, record_id)] = RecordBusy(f"{entity} {record_id} of {ctx.member_id}")
                continue
            locks.append((lock, entity, record_id))
            mine.append((entity, record_id))
        _process_locked(ctx, mine, out)
    finally:
        for lock, entity, record_id in locks:
            try:
                lock.release()
            except Exception:  # expired lock: the work is idempotent, nothing to undo
                log.warning("lock for %s %s expired before release", entity, record_id)
    return out


class Deferred:
    """A record left for the next round: an action of an earlier record in this round
    wrote it, or what its rules read from the portal, after it was read."""

    def __repr__(self) -> str:
        return "Deferred()"


DEFERRED = Deferred()

# the entity types a portal-side related read (app.sync.fetch.related_commands) returns
_RELATED_READS = {
    "company": {"company"},
    "contacts": {"contact"},
    "client_deals": {"deal"},
    "contact_deals": {"deal"},
    "owner_open_activities": {"activity"},
    "deal_open_activities": {"activity"},
    "responsible_user": set(),  # users: the app never writes them
}


def _related_types(needs, naming) -> set[str] | None:
    """Entity types this record's portal-side related reads return; None = any."""
    out: set[str] = set()
    for need in needs:
        if need.startswith("parent:"):
            out.add(need.split(":", 1)[1])
        elif need in _RELATED_READS:
            out |= _RELATED_READS[need]
        elif not store_needs([need]):
            return None  # "owner" and anything unknown: any type
    return out


def _process_locked(ctx: PortalContext, records, out: dict) -> None:
    to_read = []
    for entity, record_id in records:
        early = without_read(ctx, entity, record_id)
        if early is not None:
            out[(entity, record_id)] = early
        else:
            to_read.append((entity, record_id, needed_related(ctx.table, entity)))
    fetched = fetch_records(ctx.client, ctx.naming, to_read) if to_read else {}
    wave = _Wave(ctx)
    for entity, record_id, needs in to_read:
        value = fetched[(entity, record_id)]
        if isinstance(value, Exception):
            out[(entity, record_id)] = value
            continue
        related = _related_types(needs, ctx.naming)
        if (entity, record_id) in wave.records or (
            wave.types and (related is None or related & wave.types)
        ):
            out[(entity, record_id)] = DEFERRED  # its read is older than our writes
            continue
        if wave.pending and pending_conflict(
            ctx.session_factory,
            ctx.member_id,
            ctx.naming,
            entity,
            record_id,
            value.record,
            value.related,
            needs,
            [a for plan in wave.pending for g in plan.groups for a in g.actions],
        ):
            wave.flush()  # one at a time, these actions would have been applied first
        plan = plan_record(ctx, entity, record_id, value)
        out[(entity, record_id)] = plan.result
        if plan.groups is not None:
            wave.add(plan)
    wave.flush()


class _Wave:
    """Decided records whose actions go out together; what this round has written."""

    def __init__(self, ctx: PortalContext) -> None:
        self.ctx = ctx
        self.pending: list = []
        self.types: set[str] = set()
        self.records: set[tuple[str, int]] = set()

    def add(self, plan) -> None:
        self.pending.append(plan)
        for group in plan.groups:
            for action in group.actions:
                types, records = written(action)
                self.types |= types
                self.records |= records

    def flush(self) -> None:
        """Apply the pending records' actions in as few batches as the limit allows."""
        ctx, plans, self.pending = self.ctx, self.pending, []
        if not plans:
            return
        groups = [
            replace(group, record=(plan.entity, plan.record_id))
            for plan in plans
            for group in plan.groups
        ]
        writer = EchoAwareClient(ctx.client, ctx.redis, ctx.member_id)
        reports = apply_groups(ctx.session_factory, writer, ctx.naming, ctx.member_id, groups)
        dirty.remember_created(ctx.redis, ctx.member_id, created_records(reports, ctx.naming))
        mirror_written(ctx, writer.written)
        at = 0
        for plan in plans:
            finish_record(ctx, plan, reports[at : at + len(plan.groups)])
            at += len(plan.groups)
