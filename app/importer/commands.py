"""A chunk of planned rows → REST batch commands. Pure.

Every created record is one ``crm.item.add`` labelled ``r<row><slot>``; a record of the
same chunk is referenced as ``$result[<label>][item][id]`` (the portal substitutes it within
the one batch request), so a row's company, contact and Object — links included — cost one
round trip together. Merges are ``crm.item.update`` with the blank fields only. Field codes
are translated with the portal's naming (``UF_CRM_MT_INN`` → its real name).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.importer.plan import Step, label

BATCH_LIMIT = 50


def size(step: Step) -> int:
    """Commands the step needs (so a chunk never straddles two batch requests)."""
    return sum(1 for p in step.parts if p.existing is None or p.fields or p.links)


def chunks(steps: Sequence[Step], limit: int = BATCH_LIMIT) -> list[list[Step]]:
    """Consecutive steps grouped so that each group's commands fit one batch request."""
    out: list[list[Step]] = [[]]
    used = 0
    for step in steps:
        n = size(step)
        if used + n > limit and out[-1]:
            out.append([])
            used = 0
        out[-1].append(step)
        used += n
    return [c for c in out if c]


def _ref(rid: Any) -> Any:
    return f"$result[{rid}][item][id]" if isinstance(rid, str) else int(rid)


def build(steps: Sequence[Step], naming: Any) -> dict[str, tuple[str, dict]]:
    """``{label: (method, params)}`` for the chunk, in row order."""
    out: dict[str, tuple[str, dict]] = {}
    for step in steps:
        ids = {
            p.slot: (p.existing if p.existing is not None else label(step.number, p.slot))
            for p in step.parts
        }
        for part in step.parts:
            fields = {naming.field_name(part.entity, k): v for k, v in part.fields.items()}
            for field, slot in part.links.items():
                if slot in ids:
                    fields[field] = _ref(ids[slot])
            etid = naming.entity_type_id(part.entity)
            key = label(step.number, part.slot)
            if part.existing is None:
                out[key] = ("crm.item.add", {"entityTypeId": etid, "fields": fields})
            elif fields:
                rid = _ref(part.existing)
                out[key + "u"] = (
                    "crm.item.update",
                    {"entityTypeId": etid, "id": rid, "fields": fields},
                )
    return out
