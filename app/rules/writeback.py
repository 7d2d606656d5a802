"""Write-back: what we wrote goes into the mirror, so our own write's echo diffs to nothing."""

from __future__ import annotations

from typing import Any

from app.rules import actions as A
from app.rules.model import TASK_ENTITY, TASK_TAG
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
    if isinstance(action, A.CreateRecord) and action.run_rules:
        return  # its ADD event is to run the rules: the mirror must not know it yet
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
    elif isinstance(action, A.CreateTask) and isinstance(value, dict):
        _task_to_mirror(session, member_id, action, value.get("task"), naming)
    elif isinstance(action, A.UpdateTask) and isinstance(value, dict):
        _updated_task_to_mirror(session, member_id, action, value.get("task"))
    elif isinstance(action, A.CreateTodo) and isinstance(value, dict) and value.get("id"):
        # the portal answers only the id: mark the activity as ours so its ADD echo is
        # mirrored without firing activity rules ("the client got in touch")
        mirror.put(
            session, member_id, "activity", int(value["id"]), {"ID": str(value["id"]), OURS: True}
        )


def _task_to_mirror(session, member_id: str, action: A.CreateTask, task: Any, naming) -> None:
    """Mirror a task we created, with the playbook's tag: the app mirrors only its own tasks
    (``app.sync.tasks``), and the tag tells the completion rules which step it was. When the
    task's ADD echo got there first, only the tag is added to what it stored."""
    from app.rules.commands import binding
    from app.sync.tasks import snapshot

    if not isinstance(task, dict) or not task.get("id"):
        return
    task_id = int(task["id"])
    known = mirror.get(session, member_id, TASK_ENTITY, task_id)
    data = known if known is not None else snapshot(task) or {}
    if known is None and action.bind_to and isinstance(action.bind_to[1], int):
        # the add answer omits ufCrmTask (returned only when selected); we know what we sent
        data["ufCrmTask"] = [binding(action.bind_to[0], action.bind_to[1], naming)]
    data[TASK_TAG] = action.tag
    mirror.put(session, member_id, TASK_ENTITY, task_id, data)


def _updated_task_to_mirror(session, member_id: str, action: A.UpdateTask, task: Any) -> None:
    """The task as ``tasks.task.update`` answered it, over what we knew (the tag and the
    binding stay: the answer carries no ``ufCrmTask`` unless selected)."""
    from app.sync.tasks import snapshot

    fresh = snapshot(task) if isinstance(task, dict) else None
    known = mirror.get(session, member_id, TASK_ENTITY, int(action.task_id))
    if known is None:
        return  # not a task we mirror: nothing rules could diff against
    if fresh is None:  # an answer without the task: record what we asked for
        fresh = {}
        if action.deadline is not None:
            fresh["deadline"] = action.deadline.isoformat()
        if action.responsible_id:
            fresh["responsibleId"] = str(action.responsible_id)
        if action.defer:
            fresh["status"] = "6"
        elif action.renew:
            fresh["status"] = "2"  # renewed: pending again (task.item.renew: "not executed")
    mirror.put(session, member_id, TASK_ENTITY, int(action.task_id), {**known, **fresh})
