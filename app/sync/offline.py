"""Offline-event catch-up: drain ``event.offline.get`` so nothing changed while we were away
(or whose online POST was lost) goes unprocessed.

At-least-once loop (protocol §5.5, E.4): ``event.offline.get {clear: 0}`` reserves up to
``limit`` rows under a ``process_id``; each distinct record among them is processed (the
same ``process_record`` an online event leads to, so rules run once thanks to the mirror
diff and the claims); then ``event.offline.clear`` removes the rows whose records were
processed (or covered: see below) and ``event.offline.error`` marks the rows that failed, so they are not re-read
forever but stay inspectable (``error=1``).

Every event is bound both online and offline, so most rows repeat an event the inbox
already took: a record whose rows are no newer than its latest online event
(:func:`_covered_online`) is cleared without a read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.portal.errors import is_retryable
from app.rules.apply import event_entity
from app.rules.naming import resolve_entity
from app.store.mirror import parse_time
from app.sync import dirty
from app.sync.context import PortalContext
from app.sync.dirty import seen_at
from app.sync.events_map import CRM_ENTITIES, VERBS, record_of
from app.sync.process import process_record

log = logging.getLogger(__name__)

# Rows per event.offline.get. The method's limit defaults to 50 and has no documented
# maximum (b24restdocs api-reference/events/event-offline-get.md: "limit — number of
# records to select, default 50"). Every event is bound online and offline, so a burst
# leaves ~3 rows per lead, nearly all covered: 500 a page clears a 300-lead burst in two
# get/clear pairs instead of eighteen. A portal that answers fewer per page only makes the
# loop stop early; the drain that found rows asks for the next slot (app.jobs.events).
LIMIT = 500
MAX_ROUNDS = 200  # 10,000 rows per run; the schedule runs it again
HANDOVER_TTL = 7 * 24 * 3600  # the catch-up runs within minutes; a week covers an outage


@dataclass
class CatchUpResult:
    rows: int = 0
    records: int = 0  # processed (read and diffed)
    covered: int = 0  # cleared without a read: the online delivery brought their events
    handed: int = 0  # failed transiently: handed to the event drain, rows cleared
    failed_rows: int = 0
    rounds: int = 0
    fresh_rows: int = 0  # rows of fresh reservations (not handed over / orphaned ones)
    errors: list[str] = field(default_factory=list)


Processor = Callable[[PortalContext, str, int], Any]


def catch_up(
    ctx: PortalContext,
    *,
    limit: int = LIMIT,
    max_rounds: int = MAX_ROUNDS,
    process: Processor = process_record,
) -> CatchUpResult:
    """Drain the offline queue of ``ctx``'s portal (see module doc): first the rows a
    drain's ride-along check reserved and handed over (:func:`hand_over`), then any process
    whose answer was lost (:func:`sweep_orphans`), then fresh rows."""
    out = CatchUpResult()
    for process_id in _handed_over(ctx):
        resume(ctx, process_id, out, process=process)
    if ctx.redis.delete(orphans_key(ctx.member_id)):
        sweep_orphans(ctx, out, process=process)
    for _ in range(max_rounds):
        try:
            reply = ctx.client.call("event.offline.get", {"clear": 0, "limit": limit})
        except Exception:  # the portal may have reserved rows under a process id we never saw
            may_have_orphans(ctx.redis, ctx.member_id)
            raise
        process_id, rows = _unpack(reply)
        if not rows:
            break
        out.fresh_rows += len(rows)
        settle(ctx, process_id, rows, out, process=process)
        if len(rows) < limit:
            break
    if ctx.connector and not ctx.redis.exists(legacy_empty_key(ctx.member_id)):
        _drain_sourceless(ctx, out, limit=limit, max_rounds=max_rounds, process=process)
    return out


def hand_to_drain(ctx: PortalContext, entity: str, record_id: int) -> None:
    """Mark the record dirty (under the name its events use) for the event drain; the
    caller or the clock's next tick schedules the drain (``dirty.schedule_if_idle``)."""
    dirty.mark(ctx.redis, ctx.member_id, [dirty.entry(event_entity(ctx.naming, entity), record_id)])


def legacy_empty_key(member_id: str) -> str:
    return f"b24:offline:sourceless-empty:{member_id}"


def _drain_sourceless(ctx: PortalContext, out: CatchUpResult, *, limit, max_rounds, process):
    """After the installer re-bound the offline events with an ``auth_connector`` key, rows
    queued before that are in the queue "without a source", which a get with the key does
    not return (event-offline-list.md): drain it without the key until it is found empty
    once (remembered; nothing fills it any more)."""
    raw = getattr(ctx.client, "raw", ctx.client)
    for _ in range(max_rounds):
        process_id, rows = _unpack(raw.call("event.offline.get", {"clear": 0, "limit": limit}))
        if not rows:
            ctx.redis.set(legacy_empty_key(ctx.member_id), b"1")
            return
        settle(ctx, process_id, rows, out, process=process, client=raw)
        if len(rows) < limit:
            ctx.redis.set(legacy_empty_key(ctx.member_id), b"1")
            return


def resume(
    ctx: PortalContext, process_id: str, out: CatchUpResult, *, process: Processor = process_record
) -> None:
    """Re-select the rows still reserved under ``process_id`` and settle them
    (event-offline-get.md, ``process_id``: "re-select any unprocessed records from the
    current process")."""
    reply = ctx.client.call("event.offline.get", {"process_id": process_id, "clear": 0})
    _, rows = _unpack(reply)
    if rows:
        settle(ctx, process_id, rows, out, process=process)
    ctx.redis.srem(handover_key(ctx.member_id), process_id)


def sweep_orphans(
    ctx: PortalContext, out: CatchUpResult, *, process: Processor = process_record
) -> None:
    """Rows reserved by a check whose answer was lost (a batch that failed after the portal
    ran it): ``event.offline.list`` shows their ``PROCESS_ID`` (event-offline-list.md);
    each such process is resumed. A process another job is settling right now may be
    resumed too: settling twice is harmless (records are processed idempotently)."""
    seen: set[str] = set()
    start = 0
    while True:
        page = ctx.client.call_list_page(
            "event.offline.list", {"filter": {">PROCESS_ID": "", "=ERROR": 0}, "start": start}
        )
        for row in page.result if isinstance(page.result, list) else []:
            pid = str(row.get("PROCESS_ID") or "")
            if pid and pid not in seen:
                seen.add(pid)
        if page.next is None:
            break
        start = page.next
    for pid in sorted(seen):
        resume(ctx, pid, out, process=process)


def classify(rows: list[dict]) -> tuple[dict, list[str], list[str], dict]:
    """Rows by what settles them: ``by_record`` ((entity, id) → message ids), ``unrelated``
    (events no rule reads: cleared), ``nameless`` (kept as errors), ``blind`` (entity →
    rows naming no record: reconciled)."""
    by_record: dict[tuple[str, int], list[str]] = {}
    unrelated: list[str] = []
    nameless: list[str] = []
    blind: dict[str, list[str]] = {}
    for row in rows:
        name = str(row.get("EVENT_NAME", ""))
        data = row.get("EVENT_DATA")
        target = record_of(name, data if isinstance(data, dict) else {})
        message_id = str(row.get("MESSAGE_ID", ""))
        if target is not None:
            by_record.setdefault(target, []).append(message_id)
        elif (entity := blind_entity(name)) is not None:
            blind.setdefault(entity, []).append(message_id)
        elif name.upper() in UNRECONCILABLE:
            nameless.append(message_id)  # an activity/task we cannot name or list back
        else:
            unrelated.append(message_id)
    return by_record, unrelated, nameless, blind


def all_covered(ctx: PortalContext, rows: list[dict]) -> bool:
    """True when every row may be cleared without a read: each names a record whose latest
    online event is no older (:func:`_covered_online`) or is an event no rule reads."""
    by_record, _, nameless, blind = classify(rows)
    if nameless or blind:
        return False
    return len(_covered_online(ctx, rows, by_record)) == len(by_record)


def settle(
    ctx: PortalContext,
    process_id: str | None,
    rows: list[dict],
    out: CatchUpResult,
    *,
    process: Processor = process_record,
    client: Any = None,
) -> None:
    """Process the records of ``rows`` (reserved under ``process_id``) that the online
    delivery did not cover, mark the rows that failed as errors, clear the rest."""
    out.rounds += 1
    out.rows += len(rows)
    by_record, _unrelated, nameless, blind = classify(rows)
    failed: list[str] = list(nameless)
    if nameless:  # kept as error rows (inspectable), never cleared unprocessed
        out.errors.append(f"{len(nameless)} activity/task row(s) without a record id")
    if blind:
        failed.extend(_reconcile_blind(ctx, blind, out))
    covered = _covered_online(ctx, rows, by_record)
    out.covered += len(covered)
    for (entity, record_id), message_ids in by_record.items():
        if (entity, record_id) in covered:
            continue  # the online event of this change (or a later one) was taken
        try:
            process(ctx, resolve_entity(ctx.naming, entity), record_id)
            out.records += 1
        except Exception as exc:  # one bad record must not block the queue
            if is_retryable(exc):
                # a 500 or a timeout: the event drain retries it within seconds, as it
                # would an online event; marked as an error row it would wait for the
                # reconciliation (hand_to_drain)
                log.warning("offline row for %s %s: %s; handed to the drain", entity,
                            record_id, exc)  # fmt: skip
                hand_to_drain(ctx, resolve_entity(ctx.naming, entity), record_id)
                out.handed += 1
                continue
            log.exception("offline row for %s %s failed", entity, record_id)
            out.errors.append(f"{entity} {record_id}: {type(exc).__name__}: {exc}")
            failed.extend(message_ids)
    client = client or ctx.client  # the queue the rows came from (with or without a source)
    if failed:
        out.failed_rows += len(failed)
        client.call("event.offline.error", {"process_id": process_id, "message_id": failed})
    # rows not marked as errors are cleared (the error call released the others)
    client.call("event.offline.clear", {"process_id": process_id})


def handover_key(member_id: str) -> str:
    return f"b24:offline:handover:{member_id}"


def orphans_key(member_id: str) -> str:
    return f"b24:offline:orphans:{member_id}"


def hand_over(redis: Any, member_id: str, process_id: str) -> None:
    """A drain's ride-along check reserved rows it does not settle itself (a record the
    online delivery missed): the standalone catch-up re-selects them by ``process_id``."""
    redis.sadd(handover_key(member_id), process_id)
    redis.expire(handover_key(member_id), HANDOVER_TTL)


def may_have_orphans(redis: Any, member_id: str) -> None:
    """A check's answer was lost (rows may be reserved under a process id we never saw):
    the next standalone catch-up sweeps ``event.offline.list`` for them."""
    redis.set(orphans_key(member_id), b"1", ex=HANDOVER_TTL)


def _handed_over(ctx: PortalContext) -> list[str]:
    members = ctx.redis.smembers(handover_key(ctx.member_id)) or set()
    return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)


def _covered_online(ctx: PortalContext, rows: list[dict], by_record: dict) -> set:
    """Records whose rows are all no newer than the latest online event the inbox took for
    them (``app.sync.dirty.seen_at``; portal clock on both sides): that event was processed
    (or was the echo of our own write), so reading the record again finds nothing. A row
    newer than it, or one whose time cannot be read, is processed as before."""
    newest: dict[tuple[str, int], float | None] = {}
    for row in rows:
        data = row.get("EVENT_DATA")
        target = record_of(str(row.get("EVENT_NAME", "")), data if isinstance(data, dict) else {})
        if target is None:
            continue
        stamp = parse_time(row.get("TIMESTAMP_X"))
        at = stamp.timestamp() if stamp is not None else None
        known = newest.get(target, 0.0)
        newest[target] = None if at is None or known is None else max(known, at)
    seen = seen_at(ctx.redis, ctx.member_id, list(by_record))
    return {
        record
        for record in by_record
        if newest.get(record) is not None and record in seen and seen[record] >= newest[record]
    }


# Bound record events with no updatedTime listing to catch them by (ONTASKADD is not bound)
UNRECONCILABLE = frozenset(
    {
        "ONCRMACTIVITYADD",
        "ONCRMACTIVITYUPDATE",
        "ONCRMACTIVITYDELETE",
        "ONTASKUPDATE",
        "ONTASKDELETE",
    }
)


def blind_entity(event: str) -> str | None:
    """The entity a CRM record event is about, for a row whose data names no record:
    ``"*"`` for smart-process items (any type), None for events we cannot reconcile."""
    name = event.upper()
    for wire, entity in CRM_ENTITIES.items():
        if name.startswith(f"ONCRM{wire}") and name[len(f"ONCRM{wire}") :] in VERBS:
            return entity
    if name.startswith("ONCRMDYNAMICITEM"):
        return "*"
    return None


def _reconcile_blind(ctx: PortalContext, blind: dict[str, list[str]], out) -> list[str]:
    """Rows that say "a lead changed" without saying which (the docs' examples show
    ``EVENT_DATA: false``): catch the change by reconciling that entity by ``updatedTime``
    instead of clearing the rows unprocessed. Returns the rows to mark as errors."""
    from app.sync.reconcile import reconcile

    watched = set(ctx.table.entities())
    entities = sorted(watched - set(CRM_ENTITIES.values())) if "*" in blind else []
    entities = sorted({*entities, *(e for e in blind if e in watched)})
    if not entities:
        return []
    try:
        reconcile(ctx, entities)
    except Exception as exc:  # keep the rows: marked as errors, inspectable, not lost
        log.exception("offline rows without record ids: reconciliation failed")
        out.errors.append(f"reconcile {entities}: {type(exc).__name__}: {exc}")
        return [m for ids in blind.values() for m in ids]
    return []


def _unpack(reply: Any) -> tuple[str | None, list[dict]]:
    if isinstance(reply, dict) and "result" in reply and "events" not in reply:
        reply = reply["result"]
    if not isinstance(reply, dict):
        return None, []
    events = reply.get("events") or []
    return reply.get("process_id"), [e for e in events if isinstance(e, dict)]
