"""Full sync: copy every record of an entity into the mirror, resumably, without counting.

Paging is the gateway's keyset ``iter_list`` (``order id ASC``, ``filter >id``,
``start=-1``, 50 pages chained per batch request → 2,500 records per request), so 100,000
leads take about 40 requests and never ask the portal for a ``total``. After each flushed
chunk the ``full`` checkpoint stores the last id: an interrupted sync resumes from it.
When it completes, the ``reconcile`` watermark is set to the newest ``updatedTime`` seen,
so incremental runs (``reconcile``) pick up only later changes.

Full sync only fills the mirror; it does not run rules (a first sync must not fire
"created" rules for years of old records).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from app.store import mirror
from app.sync.context import PortalContext

FLUSH = 2500
BATCH_PAGES = 50


@dataclass
class SyncResult:
    entity: str
    records: int
    last_id: int
    resumed_from: int


def full_sync(
    ctx: PortalContext,
    entity: str,
    *,
    restart: bool = False,
    progress: Callable[[int], Any] | None = None,
) -> SyncResult:
    """Mirror every record of ``entity`` (resuming from the checkpoint unless ``restart``)."""
    with ctx.session_factory() as session:
        cp = mirror.checkpoint(session, ctx.member_id, entity, "full")
        if restart or cp.finished:
            cp.last_id, cp.finished = 0, False
        start_id = cp.last_id
        session.commit()

    params = {"entityTypeId": ctx.naming.entity_type_id(entity), "select": ["*"]}
    if start_id:
        params["filter"] = {">id": start_id}
    total, last_id, newest = 0, start_id, None
    buffer: list[dict] = []
    pages = ctx.client.iter_list(
        "crm.item.list",
        params,
        id_field="id",
        items_key="items",
        batch_pages=BATCH_PAGES,
        priority="sync",
    )
    for item in _items(pages):
        buffer.append(item)
        if len(buffer) >= FLUSH:
            last_id, newest = _flush(ctx, entity, buffer, newest)
            total += len(buffer)
            if progress:
                progress(len(buffer))
            buffer = []
    if buffer:
        last_id, newest = _flush(ctx, entity, buffer, newest)
        total += len(buffer)
        if progress:
            progress(len(buffer))
    with ctx.session_factory() as session:
        cp = mirror.checkpoint(session, ctx.member_id, entity, "full")
        cp.finished = True
        rec = mirror.checkpoint(session, ctx.member_id, entity, "reconcile")
        if newest and (rec.last_modified is None or mirror.is_later(newest, rec.last_modified)):
            rec.last_modified = newest
        session.commit()
    return SyncResult(entity, total, last_id, start_id)


def _flush(
    ctx: PortalContext, entity: str, items: list[dict], newest: str | None
) -> tuple[int, str | None]:
    with ctx.session_factory() as session:
        mirror.put_many(session, ctx.member_id, entity, items)
        last_id = max(int(i["id"]) for i in items)
        for item in items:
            stamp = item.get("updatedTime")
            if stamp and (newest is None or mirror.is_later(stamp, newest)):
                newest = str(stamp)
        cp = mirror.checkpoint(session, ctx.member_id, entity, "full")
        cp.last_id = max(cp.last_id, last_id)
        session.commit()
    return last_id, newest


def _items(pages: Iterable[Any]) -> Iterable[dict]:
    """Accept an iterator of items or of pages (lists / ``{"items": [...]}``)."""
    for page in pages:
        if isinstance(page, dict) and "id" in page:
            yield page
        elif isinstance(page, dict):
            yield from page.get("items", [])
        else:
            yield from page
