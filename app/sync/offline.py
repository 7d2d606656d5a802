"""Offline-event catch-up: drain ``event.offline.get`` so nothing changed while we were away
(or whose online POST was lost) goes unprocessed.

At-least-once loop (protocol §5.5, E.4): ``event.offline.get {clear: 0}`` reserves up to
``limit`` rows under a ``process_id``; each distinct record among them is processed (the
same ``process_record`` an online event leads to, so rules run once thanks to the mirror
diff and the claims); then ``event.offline.clear`` removes the rows whose records were
processed and ``event.offline.error`` marks the rows that failed, so they are not re-read
forever but stay inspectable (``error=1``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.rules.naming import resolve_entity
from app.sync.context import PortalContext
from app.sync.events_map import record_of
from app.sync.process import process_record

log = logging.getLogger(__name__)

LIMIT = 50
MAX_ROUNDS = 200  # 10,000 rows per run; the schedule runs it again


@dataclass
class CatchUpResult:
    rows: int = 0
    records: int = 0
    failed_rows: int = 0
    rounds: int = 0
    errors: list[str] = field(default_factory=list)


Processor = Callable[[PortalContext, str, int], Any]


def catch_up(
    ctx: PortalContext,
    *,
    limit: int = LIMIT,
    max_rounds: int = MAX_ROUNDS,
    process: Processor = process_record,
) -> CatchUpResult:
    """Drain the offline queue of ``ctx``'s portal (see module doc)."""
    out = CatchUpResult()
    for _ in range(max_rounds):
        reply = ctx.client.call("event.offline.get", {"clear": 0, "limit": limit})
        process_id, rows = _unpack(reply)
        if not rows:
            break
        out.rounds += 1
        out.rows += len(rows)
        by_record: dict[tuple[str, int], list[str]] = {}
        unrelated: list[str] = []
        for row in rows:
            target = record_of(str(row.get("EVENT_NAME", "")), row.get("EVENT_DATA") or {})
            message_id = str(row.get("MESSAGE_ID", ""))
            if target is None:
                unrelated.append(message_id)
            else:
                by_record.setdefault(target, []).append(message_id)
        failed: list[str] = []
        for (entity, record_id), message_ids in by_record.items():
            try:
                process(ctx, resolve_entity(ctx.naming, entity), record_id)
                out.records += 1
            except Exception as exc:  # one bad record must not block the queue
                log.exception("offline row for %s %s failed", entity, record_id)
                out.errors.append(f"{entity} {record_id}: {type(exc).__name__}: {exc}")
                failed.extend(message_ids)
        if failed:
            out.failed_rows += len(failed)
            ctx.client.call("event.offline.error", {"process_id": process_id, "message_id": failed})
        # rows not marked as errors are cleared (the error call released the others)
        ctx.client.call("event.offline.clear", {"process_id": process_id})
        if len(rows) < limit:
            break
    return out


def _unpack(reply: Any) -> tuple[str | None, list[dict]]:
    if isinstance(reply, dict) and "result" in reply and "events" not in reply:
        reply = reply["result"]
    if not isinstance(reply, dict):
        return None, []
    events = reply.get("events") or []
    return reply.get("process_id"), [e for e in events if isinstance(e, dict)]
