"""Write-back: what we wrote goes into the mirror, so our own write's echo diffs to nothing."""

from __future__ import annotations

from typing import Any

from app.rules import actions as A
from app.rules.naming import Naming
from app.store import mirror
from app.store.mirror import OURS


def summary(value: Any) -> Any:
    """What we keep of a result in claims/audit: ids, not whole records."""
    if isinstance(value, dict):
        for key in ("item", "task"):
            if isinstance(value.get(key), dict):
                return {"id": value[key].get("id")}
        return {k: v for k, v in value.items() if k == "id"} or None
    return value


def to_mirror(session, member_id: str, action: A.Action, value: Any, naming: Naming) -> None:
    item = value.get("item") if isinstance(value, dict) else None
    if isinstance(action, A.CreateRecord) and isinstance(item, dict) and item.get("id"):
        mirror.put(session, member_id, action.entity, int(item["id"]), item)
    elif isinstance(action, (A.UpdateFields, A.MoveStage)) and isinstance(action.record_id, int):
        if isinstance(item, dict):
            mirror.put(session, member_id, action.entity, action.record_id, item)
        else:
            fields = (
                action.fields if isinstance(action, A.UpdateFields) else {"stageId": action.stage}
            )
            raw = {naming.field_name(action.entity, k): v for k, v in fields.items()}
            if "stageId" in raw:
                raw["stageId"] = naming.stage_id(action.entity, raw["stageId"])
            mirror.merge(session, member_id, action.entity, action.record_id, raw)
    elif isinstance(action, A.LinkRecords) and isinstance(item, dict) and item.get("id"):
        mirror.put(session, member_id, action.child[0], int(item["id"]), item)
    elif isinstance(action, A.DeleteRecord) and isinstance(action.record_id, int):
        mirror.mark_deleted(session, member_id, action.entity, action.record_id)
    elif isinstance(action, A.CreateTodo) and isinstance(value, dict) and value.get("id"):
        # the portal answers only the id: mark the activity as ours so its ADD echo is
        # mirrored without firing activity rules ("the client got in touch")
        mirror.put(
            session, member_id, "activity", int(value["id"]), {"ID": str(value["id"]), OURS: True}
        )
