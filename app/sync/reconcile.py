"""Periodic reconciliation: the last safety net behind online and offline events.

For each entity the portal's rules watch, list the records modified since the last run
(``updatedTime >=`` watermark, keyset paging by id without counting) and process every one
whose ``updatedTime`` differs from the mirror's (or falls in the watermark's own second). The watermark is the latest ``updatedTime``
seen, stored as a ``reconcile`` sync checkpoint; ``>=`` (not ``>``) so records modified
within the same second as the previous watermark are not skipped — those already mirrored
are recognised and cost nothing but the listing.

**The periodic job hands records over** (``hand_over=True``): a record whose ``updatedTime``
differs from the mirror's is marked dirty for the event drain (``app.sync.offline.
hand_to_drain``) instead of being read here one by one. The drain reads them fifty to a
batch, retries what fails, and survives a killed worker record by record; the job itself is
only the listing, short enough to finish between crashes. (Processing inline, a run over a
few hundred changed records took minutes at the portal's 2 requests/s; in bench/chaos.py,
with a worker killed every 20 s, it was killed on every try until its retries ran out, and
then waited its full interval.) The watermark then moves only up to the oldest record
handed over (``>=``: listed again next time, skipped once mirrored), so a record the drain
loses — Redis flushed — is listed again.

Processing inline (the CLI's ``b24 sync``, the offline catch-up's blind rows), a record
that fails with a transient portal error (a 500, a timeout: the kind a retry cures) is
handed over the same way instead of failing the whole run; the watermark stays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from app.portal.errors import is_retryable
from app.store import mirror
from app.sync.context import PortalContext
from app.sync.events_map import ACTIVITY, TASK
from app.sync.full import full_sync
from app.sync.offline import Processor, hand_to_drain
from app.sync.process import process_record

log = logging.getLogger(__name__)

MODE = "reconcile"
EPOCH = "1970-01-01T00:00:00+00:00"


@dataclass
class ReconcileResult:
    baselined: int = 0
    listed: int = 0
    processed: int = 0
    handed: int = 0  # records marked dirty for the event drain (hand_over, or a 500 inline)
    errors: list[str] = field(default_factory=list)


def reconcile(
    ctx: PortalContext,
    entities: list[str] | None = None,
    *,
    process: Processor = process_record,
    hand_over: bool = False,
) -> ReconcileResult:
    """Process — or, with ``hand_over``, mark dirty for the event drain — the records changed
    since the last reconciliation (see module doc)."""
    out = ReconcileResult()
    # activities and tasks are not crm.item records (no updatedTime listing): events +
    # offline only (and the app mirrors only the tasks it created, app.sync.tasks)
    for entity in sorted(set(entities or ctx.table.entities()) - {ACTIVITY, TASK}):
        with ctx.session_factory() as session:
            since = mirror.checkpoint(session, ctx.member_id, entity, MODE).last_modified
            baselined = mirror.checkpoint(session, ctx.member_id, entity, "full").finished
            session.commit()
        if since is None and baselined:
            # the baseline found no records (an empty portal at install): it leaves no
            # watermark, but it happened — everything there now came after it and goes
            # through the rules. A second baseline would mirror, rule-less, any change whose
            # processing is still under way or failed (found by bench/chaos.py: a lead's
            # qualification lost its task when a reconcile ran mid-run)
            since = EPOCH
        if since is None:
            # no baseline yet: mirror everything without rules (and set the watermark);
            # replaying years of records through per-record fetches would cost thousands of
            # requests and fire "created" rules for old records
            out.baselined += full_sync(ctx, entity).records
            continue
        newest, floor, failed = since, None, False
        for item in _modified_since(ctx, entity, since):
            out.listed += 1
            stamp = item.get("updatedTime")
            if stamp and (newest is None or mirror.is_later(stamp, newest)):
                newest = str(stamp)
            with ctx.session_factory() as session:
                row = session.get(mirror.MirrorRecord, (ctx.member_id, entity, int(item["id"])))
                # updatedTime has one-second resolution: in the watermark's own second a
                # later change may carry the same stamp, so those records are re-read
                mirrored = row is not None and not row.deleted and row.updated_time == stamp
            if mirrored and stamp != since:
                continue
            if hand_over:
                hand_to_drain(ctx, entity, int(item["id"]))
                out.handed += 1
                # a record re-read only for the watermark's own second does not hold the
                # watermark back (it would be listed, and held there, forever)
                if not mirrored and stamp and (floor is None or mirror.is_later(floor, stamp)):
                    floor = str(stamp)
                continue
            try:
                done = process(ctx, entity, int(item["id"]))
                if getattr(done, "changes", True):  # re-read and found something
                    out.processed += 1
            except Exception as exc:  # keep going; the next run retries (watermark stays)
                if is_retryable(exc):
                    log.warning("reconcile of %s %s: %s; handed to the drain", entity,
                                item.get("id"), exc)  # fmt: skip
                    hand_to_drain(ctx, entity, int(item["id"]))
                    out.handed += 1
                    failed = True
                    continue
                log.exception("reconcile of %s %s failed", entity, item.get("id"))
                out.errors.append(f"{entity} {item.get('id')}: {exc}")
                failed = True
        if floor is not None:
            newest = floor  # listed again next time (>=); skipped once the drain mirrored it
        if newest != since and not failed:
            with ctx.session_factory() as session:
                mirror.checkpoint(session, ctx.member_id, entity, MODE).last_modified = newest
                session.commit()
    return out


def _modified_since(ctx: PortalContext, entity: str, since: str):
    """Records of ``entity`` with ``updatedTime >= since`` (id and updatedTime only), by
    keyset paging without counting, up to 50 pages per batch request."""
    params = {
        "entityTypeId": ctx.naming.entity_type_id(entity),
        "select": ["id", "updatedTime"],
        "filter": {">=updatedTime": since},
    }
    return ctx.client.iter_list(
        "crm.item.list", params, id_field="id", items_key="items", batch_pages=50, priority="sync"
    )
