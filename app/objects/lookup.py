"""Duplicate candidates for robots: the store's index when this process has one, else the
portal (numbers filtered there, texts compared here after normalising).

Rules get candidates through ``app.sync.gather``; robot ``load`` steps have only the portal
client, so they come here.
"""

from __future__ import annotations

from typing import Any

from app.domain.dedup import ObjectKeys, find_matches
from app.objects import index
from app.objects.keys import OBJECT, code, keys_of
from app.rules.changes import normalize


def _session_factory() -> Any:
    try:
        from app.services import current

        return current().session
    except Exception:  # no Services in this process (tests with fakes): use the portal
        return None


def candidates(client: Any, naming: Any, keys: ObjectKeys | None, exclude=()) -> list[int]:
    """Ids of Objects with the same complete key, ascending ([] for incomplete keys)."""
    if keys is None or not keys.is_complete:
        return []
    factory = _session_factory()
    member_id = getattr(client, "member_id", None)
    if factory is not None and member_id:
        with factory() as session:
            return index.candidates(session, member_id, keys, exclude)
    return portal_candidates(client, naming, keys, exclude)


def portal_candidates(client: Any, naming: Any, keys: ObjectKeys, exclude=()) -> list[int]:
    """The portal-side query the index replaces: ``crm.item.list`` filtered on the numbers."""
    etid = naming.entity_type_id(OBJECT)
    filter_ = {
        naming.field_name(OBJECT, code(OBJECT, "WIDTH")): float(keys.width_m),
        naming.field_name(OBJECT, code(OBJECT, "LENGTH")): float(keys.length_m),
        naming.field_name(OBJECT, code(OBJECT, "HEIGHT")): float(keys.height_m),
    }
    reply = client.call(
        "crm.item.list", {"entityTypeId": etid, "filter": filter_}, priority="robots"
    )
    items = reply.get("items") if isinstance(reply, dict) else reply
    found = []
    for raw in items or []:
        record = normalize(OBJECT, raw, naming) or {}
        theirs = keys_of(record, OBJECT, naming)
        if theirs is not None:
            found.append((int(raw["id"]), theirs))
    skip = {int(i) for i in exclude}
    return [m.object_id for m in find_matches(keys, found) if m.object_id not in skip]
