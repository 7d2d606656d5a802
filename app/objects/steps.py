"""The steps of an Object merge: derived from the plan, stored in the journal, applied one by
one. Each is idempotent (an update writes the same values again; deleting an Object that is
already gone counts as done), which is what makes a merge safe to resume."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.domain.merge import MergeError, MergePlan, ObjectRecord
from app.objects.keys import LINK_FIELD, OBJECT
from app.portal.errors import NotFound

PLANNED, APPLIED = "planned", "applied"


def plain(value: Any) -> Any:
    """A JSON-able value for the journal (Decimals and dates as text)."""
    if isinstance(value, str | int | float | bool | list | dict | type(None)):
        return value
    return str(value)


def steps_of(
    plan: MergePlan, naming: Any, main: ObjectRecord | None = None
) -> list[dict[str, Any]]:
    """The journal steps: update the main Object, re-point each link, delete duplicates.

    The main Object holds one parent lead and one parent deal: a moved link fills that slot
    when the main Object has none (a lead also keeps pointing at it by its «Объект» field)."""
    steps: list[dict[str, Any]] = []
    fields = {naming.field_name(OBJECT, k): plain(v) for k, v in plan.updates.items()}
    has = main.links if main is not None else {}
    for move in plan.moves:
        if move.kind in ("lead", "deal") and not has.get(move.kind):
            fields.setdefault(f"parentId{naming.entity_type_id(move.kind)}", move.entity_id)
    if fields:
        steps.append({"kind": "update_main", "params": {"id": plan.main_id, "fields": fields}})
    for move in plan.moves:
        if move.kind == "lead":
            name = naming.field_name("lead", LINK_FIELD)
            steps.append(
                {
                    "kind": "move_lead",
                    "params": {"id": move.entity_id, "fields": {name: plan.main_id}},
                }
            )
    for dup in plan.deletes:
        steps.append({"kind": "delete", "params": {"id": dup}})
    for n, step in enumerate(steps):
        step.update(n=n, state=PLANNED, result=None)
    return steps


def apply_step(client: Any, naming: Any, step: Mapping[str, Any]) -> Any:
    params = step["params"]
    if step["kind"] == "update_main":
        etid = naming.entity_type_id(OBJECT)
        client.call(
            "crm.item.update",
            {"entityTypeId": etid, "id": params["id"], "fields": params["fields"]},
        )
    elif step["kind"] == "move_lead":
        client.call(
            "crm.item.update", {"entityTypeId": 1, "id": params["id"], "fields": params["fields"]}
        )
    elif step["kind"] == "delete":
        try:
            client.call(
                "crm.item.delete",
                {"entityTypeId": naming.entity_type_id(OBJECT), "id": params["id"]},
            )
        except NotFound:
            return "already deleted"
    else:  # a journal written by a newer version: stop rather than guess
        raise MergeError(f"неизвестный шаг объединения {step['kind']!r}")
    return "ok"
