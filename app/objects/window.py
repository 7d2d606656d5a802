"""What the merge window shows, read from the store only (handlers never call the portal):
the duplicate candidates of an Object and a preview of a merge from mirrored snapshots.
The merge itself runs as a job (:func:`merge_objects`) and re-plans from the portal."""

from __future__ import annotations

from typing import Any

from app.domain.merge import MergeError, ObjectRecord, plan_merge
from app.objects import index
from app.objects.gather import mergeable
from app.objects.keys import OBJECT, keys_of
from app.rules.changes import normalize
from app.store import mirror


def _naming(session, member_id: str):
    from app.installers.mapping import resolve

    return resolve(session, member_id)


def candidates(session, member_id: str, object_id: int) -> list[int]:
    """Duplicates of the mirrored Object ``object_id`` (MergeError when it is unknown)."""
    naming = _naming(session, member_id)
    raw = mirror.get(session, member_id, OBJECT, object_id)
    if raw is None:
        raise MergeError(f"Объект #{object_id} не найден")
    keys = keys_of(normalize(OBJECT, raw, naming), OBJECT, naming)
    return index.candidates(session, member_id, keys, exclude=[object_id])


def _record(session, member_id: str, naming: Any, object_id: int) -> ObjectRecord:
    raw = mirror.get(session, member_id, OBJECT, object_id)
    if raw is None:
        raise MergeError(f"Объект #{object_id} не найден")
    record = normalize(OBJECT, raw, naming) or {}
    links = {
        kind: frozenset([int(record[f])]) if int(record.get(f) or 0) else frozenset()
        for kind, f in (("lead", "parentId1"), ("deal", "parentId2"))
    }
    return ObjectRecord(object_id, mergeable(record), links)


def preview(session, member_id: str, main_id: int, duplicate_ids, choices) -> Any:
    """The merge plan from the mirror (advisory: the job plans again from the portal)."""
    naming = _naming(session, member_id)
    main = _record(session, member_id, naming, main_id)
    dups = [_record(session, member_id, naming, i) for i in duplicate_ids]
    return plan_merge(main, dups, dict(choices or {}))


def merge_objects(
    member_id: str, main_id: int, duplicate_ids: list, choices: dict, requested_by=None
) -> dict:
    """RQ job: run (or resume) the merge; returns the journal's state."""
    from app.objects.merge import MergeRequest, run_merge
    from app.services import current
    from app.sync.context import portal_context

    services = current()
    ctx = portal_context(services, member_id)
    request = MergeRequest(
        member_id,
        int(main_id),
        tuple(int(i) for i in duplicate_ids),
        {str(k): int(v) for k, v in (choices or {}).items()},
        requested_by,
    )
    outcome = run_merge(services.session, ctx.client, ctx.naming, request)
    return {"journal": outcome.journal_id, "state": outcome.state, "resumed": outcome.resumed}
