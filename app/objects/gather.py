"""Read the Objects of a merge and what links to them (portal reads, one batch).

An Object's links: its parent lead / deal (``parentId1`` / ``parentId2``) and the leads whose
«Объект» field names it. Field values are keyed by stable codes (``UF_CRM_OBJ_WIDTH``,
``title``…) so :func:`app.domain.merge.plan_merge` can compare them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.domain.merge import MergeError, ObjectRecord
from app.objects.keys import LINK_FIELD, OBJECT, linked_object
from app.rules.batching import run_batch
from app.rules.changes import normalize

# What a merge may fill on the main Object (system fields and links are not "fields").
MERGED_SYSTEM = ("title", "assignedById", "comments", "opportunity")


def mergeable(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k.startswith("UF_CRM_OBJ_") or k in MERGED_SYSTEM}


def load_objects(client: Any, naming: Any, ids: Iterable[int]) -> dict[int, ObjectRecord]:
    """The Objects (with their links) by id; MergeError naming any that does not exist."""
    ids = [int(i) for i in ids]
    etid = naming.entity_type_id(OBJECT)
    cmd = {f"o{i}": ("crm.item.get", {"entityTypeId": etid, "id": i}) for i in ids}
    # api-reference/crm/data-types.md: a "crm" user field holds ``T{hex etid}_{id}``; a field
    # bound to one type may hold the bare id — match both forms
    bound = [*ids, *(f"T{etid:x}_{i}" for i in ids)]
    cmd["leads"] = (
        "crm.item.list",
        {
            "entityTypeId": 1,
            "filter": {f"@{naming.field_name('lead', LINK_FIELD)}": bound},
            "select": ["id", naming.field_name("lead", LINK_FIELD)],
        },
    )
    results, errors = run_batch(client, cmd)
    missing = [i for i in ids if f"o{i}" in errors or not _item(results.get(f"o{i}"))]
    if missing:
        raise MergeError("Объекты не найдены: " + ", ".join(f"#{i}" for i in missing))
    by_lead: dict[int, set[int]] = {}
    for raw in _items(results.get("leads")):
        target = linked_object(normalize("lead", raw, naming))
        if target:
            by_lead.setdefault(target, set()).add(int(raw["id"]))
    out: dict[int, ObjectRecord] = {}
    for i in ids:
        record = normalize(OBJECT, _item(results[f"o{i}"]), naming) or {}
        leads = set(by_lead.get(i, set()))
        deals = set()
        if int(record.get("parentId1") or 0):
            leads.add(int(record["parentId1"]))
        if int(record.get("parentId2") or 0):
            deals.add(int(record["parentId2"]))
        links = {"lead": frozenset(leads), "deal": frozenset(deals)}
        out[i] = ObjectRecord(i, mergeable(record), links)
    return out


def _item(value: Any) -> dict | None:
    return (
        value.get("item")
        if isinstance(value, dict) and isinstance(value.get("item"), dict)
        else None
    )


def _items(value: Any) -> list[dict]:
    if isinstance(value, dict) and isinstance(value.get("items"), list):
        return value["items"]
    return value if isinstance(value, list) else []
