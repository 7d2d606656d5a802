"""What an action writes: the entity types and the known records it changes, on the
portal or in our store (``app.sync.group`` keeps records that changed together apart
when one's actions could change what another's rules read)."""

from __future__ import annotations

from app.rules import actions as A
from app.rules.model import TASK_ENTITY


def written(action: A.Action) -> tuple[set[str], set[tuple[str, int]]]:
    """(entity types, known records) an action writes on the portal or in the mirror."""
    types: set[str] = set()
    records: set[tuple[str, int]] = set()

    def rec(entity: str, record_id) -> None:
        types.add(entity)
        if isinstance(record_id, int):
            records.add((entity, record_id))

    if isinstance(action, A.UpdateFields | A.MoveStage | A.DeleteRecord):
        rec(action.entity, action.record_id)
    elif isinstance(action, A.CreateRecord):
        types.add(action.entity)
        if action.link_from and action.link_field:
            rec(*action.link_from)
    elif isinstance(action, A.LinkRecords):
        rec(*action.child)
    elif isinstance(action, A.CreateTask | A.UpdateTask):
        types.add(TASK_ENTITY)
    elif isinstance(action, A.CreateTodo):
        types.add("activity")
    elif isinstance(action, A.StartTimer | A.CancelTimer):
        types.add("timer")
    return types, records
