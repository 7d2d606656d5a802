"""The Object duplicate index: kept in step with the mirror, queried by normalised key.

:func:`install` registers a mirror listener, so every stored/deleted ``metal.object``
snapshot (from an event, a full sync, or our own write-back) updates its ``object_keys``
row in the same transaction. :func:`candidates` is then a single indexed lookup — no
portal call and no scan — which is what a rule's duplicate check and the robots use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.domain.dedup import ObjectKeys, dedup_hash
from app.objects.keys import OBJECT, keys_of
from app.rules.changes import normalize
from app.store import mirror
from app.store import objects_index as store


def _naming(session: Session, member_id: str) -> Any:
    """The portal's SchemaMap, read once per session (a full sync stores thousands)."""
    from app.installers.mapping import resolve

    cache = session.info.setdefault("metal_object_naming", {})
    if member_id not in cache:
        cache[member_id] = resolve(session, member_id)
    return cache[member_id]


def parent_ids(record: Mapping[str, Any], naming: Any) -> tuple[int | None, int | None]:
    """(lead id, deal id) the Object belongs to, from ``parentId1`` / ``parentId2``."""

    def one(etid: int) -> int | None:
        value = record.get(f"parentId{etid}")
        try:
            return int(value) if value not in (None, "", 0, "0") else None
        except (TypeError, ValueError):
            return None

    return one(1), one(2)


def index_object(
    session: Session, member_id: str, object_id: int, raw: Mapping[str, Any] | None, naming: Any
) -> None:
    """Store (or drop, for ``raw`` None) the index row of one Object (raw crm.item dict)."""
    if raw is None:
        store.remove(session, member_id, object_id)
        return
    record = normalize(OBJECT, raw, naming) or {}
    keys = keys_of(record, OBJECT, naming)
    digest = dedup_hash(keys) if keys is not None and keys.is_complete else None
    lead, deal = parent_ids(record, naming)
    store.upsert(session, member_id, object_id, digest, lead, deal)


def _on_mirror(session: Session, member_id: str, entity: str, record_id: int, data) -> None:
    if entity != OBJECT:
        return
    if data is not None and data.get(mirror.OURS) and len(data) <= 2:
        return  # a bare placeholder: the full record follows
    index_object(session, member_id, record_id, data, _naming(session, member_id))


def install() -> None:
    """Follow the mirror (idempotent; called when the metal rules are imported)."""
    mirror.listen(_on_mirror)


def candidates(
    session: Session, member_id: str, keys: ObjectKeys | None, exclude: Iterable[int] = ()
) -> list[int]:
    """Ids of Objects with the same complete key (ascending); [] for incomplete keys."""
    if keys is None or not keys.is_complete:
        return []
    return store.with_hash(session, member_id, dedup_hash(keys), exclude)


def linked(session: Session, member_id: str, entity: str, record_id: int) -> list[int]:
    """Objects that belong to lead/deal ``record_id`` (by the parent relation)."""
    return store.linked_to(session, member_id, entity, record_id)


def rebuild(session: Session, member_id: str) -> int:
    """Re-index every mirrored Object (after a restore or a schema change); returns count."""
    naming = _naming(session, member_id)
    count = 0
    for row in mirror.records(session, member_id, OBJECT):
        index_object(session, member_id, row.record_id, row.data, naming)
        count += 1
    return count
