"""Actions → REST batch commands. Pure: names are translated with a :class:`Naming`.

Each portal action becomes one or more :class:`Command` (label, method, params). Records
created in the same batch are referenced as ``$result[<label>][item][id]``; the portal
substitutes them (batch placeholder chaining), so "create an Object and link it to the
lead" is one round trip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.rules import actions as A
from app.rules.naming import Naming

ENTITY_ABBR = {1: "L", 2: "D", 3: "C", 4: "CO"}
TIMELINE_TYPE = {1: "lead", 2: "deal", 3: "contact", 4: "company"}


@dataclass(frozen=True)
class Command:
    label: str
    method: str
    params: Mapping[str, Any]
    index: int  # position of the action in the input list
    primary: bool = True  # the command whose result is the action's result


class NotAPortalAction(Exception):
    """Raised for actions that are not sent to the portal (timers)."""


def label(index: int, part: int = 0) -> str:
    """The batch label of action ``index`` (``part`` > 0 for its follow-up commands)."""
    return f"a{index}" if part == 0 else f"a{index}_{part}"


def build(
    actions: Sequence[A.Action],
    naming: Naming,
    indexes: Sequence[int] | None = None,
    known_refs: Mapping[str, int] | None = None,
    *,
    marks: Mapping[int, Mapping[str, Any]] | None = None,
    found: Mapping[int, Any] | None = None,
) -> list[Command]:
    """Commands for ``actions`` (``indexes`` = their positions in the caller's list).

    ``known_refs`` resolves refs of records created earlier (a replay that skips an already
    done CreateRecord still links to the record it made). ``marks``: per index, fields that
    tag what the create makes with its claim key; ``found``: per index, the record an
    earlier attempt already made (``app.rules.recovery.Found``) — only what that attempt
    may have left undone is sent (the parent's link field, missing checklist items)."""
    indexes = list(indexes) if indexes is not None else list(range(len(actions)))
    refs: dict[str, Any] = dict(known_refs or {})
    out: list[Command] = []
    marks, found = marks or {}, found or {}
    for action, index in zip(actions, indexes, strict=True):
        made = found.get(index)
        if isinstance(action, A.CreateRecord) and action.ref:
            refs[action.ref] = made.id if made else f"$result[{label(index)}][item][id]"
        if made is not None:
            out.extend(_completion(action, index, naming, refs, made))
            continue
        commands = _commands(action, index, naming, refs)
        if marks.get(index) and isinstance(action, A.Notify):
            commands = [_tagged(c, marks[index]["TAG"]) for c in commands]
        elif marks.get(index):
            commands[0] = _marked(commands[0], marks[index])
        out.extend(commands)
    return out


def _tagged(cmd: Command, tag: str) -> Command:
    """A notification with its ``TAG`` (one per user: a tag replaces the app's earlier
    notifications with that tag, whoever they went to)."""
    params = {**cmd.params, "TAG": f"{tag}:{cmd.params['USER_ID']}"}
    return Command(cmd.label, cmd.method, params, cmd.index, cmd.primary)


def _marked(cmd: Command, fields: Mapping[str, Any]) -> Command:
    """The create command with the tag fields added to what it writes."""
    params = dict(cmd.params)
    params["fields"] = {**params["fields"], **fields}
    return Command(cmd.label, cmd.method, params, cmd.index, cmd.primary)


def _completion(action: A.Action, i: int, naming: Naming, refs, made: Any) -> list[Command]:
    """For a create an earlier attempt made: the follow-ups it may not have run (all of
    them harmless to repeat), none primary — the found record is the action's result."""
    if isinstance(action, A.CreateRecord) and action.link_from and action.link_field:
        parent_entity, parent_id = action.link_from
        params = {
            "entityTypeId": naming.entity_type_id(parent_entity),
            "id": _rid(parent_id, refs),
            "fields": {naming.field_name(parent_entity, action.link_field): made.id},
        }
        return [Command(label(i, 1), "crm.item.update", params, i, primary=False)]
    if isinstance(action, A.CreateTask):
        have = set(made.checklist)
        return [
            Command(
                label(i, n),
                "task.checklistitem.add",
                {"TASKID": made.id, "FIELDS": {"TITLE": item, "SORT_INDEX": n * 10}},
                i,
                primary=False,
            )
            for n, item in enumerate(action.checklist, start=1)
            if item not in have
        ]
    return []


def _rid(value: A.RecordId, refs: Mapping[str, Any]) -> Any:
    if isinstance(value, A.Ref):
        if value.name not in refs:
            raise ValueError(f"Ref({value.name!r}) used before a CreateRecord with that ref")
        return refs[value.name]
    return int(value)


def _fields(entity: str, fields: Mapping[str, Any], naming: Naming) -> dict[str, Any]:
    out = {}
    for code, value in fields.items():
        if code == "stageId" and isinstance(value, str):
            value = naming.stage_id(entity, value)
        out[naming.field_name(entity, code)] = _wire(value)
    return out


def _wire(value: Any) -> Any:
    # batch commands are query strings: booleans/None would go out as "True"/"None"
    if value is True:
        return "Y"
    if value is False:
        return "N"
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def binding(entity: str, record_id: Any, naming: Naming) -> str:
    """The CRM binding string of a record (``L_4``, ``D_1``, ``T4c4_6``)."""
    etid = naming.entity_type_id(entity)
    abbr = ENTITY_ABBR.get(etid) or f"T{etid:x}"
    return f"{abbr}_{record_id}"


def _commands(action: A.Action, i: int, naming: Naming, refs: Mapping[str, str]) -> list[Command]:
    if isinstance(action, A.UpdateFields):
        params = {
            "entityTypeId": naming.entity_type_id(action.entity),
            "id": _rid(action.record_id, refs),
            "fields": _fields(action.entity, action.fields, naming),
        }
        return [Command(label(i), "crm.item.update", params, i)]
    if isinstance(action, A.MoveStage):
        stage = naming.stage_id(action.entity, action.stage)
        params = {
            "entityTypeId": naming.entity_type_id(action.entity),
            "id": _rid(action.record_id, refs),
            "fields": {"stageId": stage},
        }
        return [Command(label(i), "crm.item.update", params, i)]
    if isinstance(action, A.CreateRecord):
        fields = _fields(action.entity, action.fields, naming)
        out = []
        if action.link_from and not action.link_field:
            parent_entity, parent_id = action.link_from
            fields[f"parentId{naming.entity_type_id(parent_entity)}"] = _rid(parent_id, refs)
        etid = naming.entity_type_id(action.entity)
        out.append(Command(label(i), "crm.item.add", {"entityTypeId": etid, "fields": fields}, i))
        if action.link_from and action.link_field:
            parent_entity, parent_id = action.link_from
            link = {
                naming.field_name(
                    parent_entity, action.link_field
                ): f"$result[{label(i)}][item][id]"
            }
            params = {
                "entityTypeId": naming.entity_type_id(parent_entity),
                "id": _rid(parent_id, refs),
                "fields": link,
            }
            out.append(Command(label(i, 1), "crm.item.update", params, i, primary=False))
        return out
    if isinstance(action, A.LinkRecords):
        child_entity, child_id = action.child
        parent_entity, parent_id = action.parent
        name = (
            naming.field_name(child_entity, action.via)
            if action.via
            else f"parentId{naming.entity_type_id(parent_entity)}"
        )
        params = {
            "entityTypeId": naming.entity_type_id(child_entity),
            "id": _rid(child_id, refs),
            "fields": {name: _rid(parent_id, refs)},
        }
        return [Command(label(i), "crm.item.update", params, i)]
    if isinstance(action, A.DeleteRecord):
        params = {
            "entityTypeId": naming.entity_type_id(action.entity),
            "id": _rid(action.record_id, refs),
        }
        return [Command(label(i), "crm.item.delete", params, i)]
    if isinstance(action, A.Notify):
        return [
            Command(
                label(i, n),
                "im.notify.system.add",
                {"USER_ID": uid, "MESSAGE": action.message},
                i,
                primary=n == 0,
            )
            for n, uid in enumerate(action.user_ids)
        ]
    if isinstance(action, A.CreateTask):
        return _task(action, i, naming, refs)
    if isinstance(action, A.UpdateTask):
        fields: dict[str, Any] = {}
        if action.deadline is not None:
            fields["DEADLINE"] = action.deadline.isoformat()
        if action.responsible_id:
            fields["RESPONSIBLE_ID"] = int(action.responsible_id)
        if action.defer:
            fields["STATUS"] = "6"  # «Отложена»
        task = {"taskId": int(action.task_id)}
        # tasks.task.renew: "renews a task after its completion" (api-reference/tasks/
        # tasks-task-renew.md); first, so the update's answer is the task as it ends up
        renew = [Command(label(i, 1 if fields else 0), "tasks.task.renew", task, i, not fields)]
        if not fields:
            if action.renew:
                return renew
            raise ValueError("UpdateTask changes nothing (no deadline, responsible or defer)")
        update = Command(label(i), "tasks.task.update", {**task, "fields": fields}, i)
        return [*renew, update] if action.renew else [update]
    if isinstance(action, A.CreateTodo):
        entity, rid = action.record
        params = {
            "ownerTypeId": naming.entity_type_id(entity),
            "ownerId": _rid(rid, refs),
            "deadline": action.deadline.isoformat(),
            "title": action.title,
            "description": action.description,
        }
        if action.responsible_id:
            params["responsibleId"] = action.responsible_id
        return [Command(label(i), "crm.activity.todo.add", params, i)]
    if isinstance(action, A.TimelineComment):
        return [_comment(action.entity, action.record_id, action.text, i, naming, refs)]
    if isinstance(action, A.ChatMessage):
        return _chat(action, i)
    # MessageClient is not a batch command: it goes to the outbox (app.channels)
    raise NotAPortalAction(action.action_type)


def dialog_id(chat_id: str) -> str | None:
    """``DIALOG_ID`` of a group chat: ``chat<id>`` (``api-reference/chats/messages/
    im-message-add.md``); a bare number is taken as a chat id. None when not a chat."""
    text = str(chat_id or "").strip().lower()
    if text.startswith("chat") and text[4:].isdigit():
        return text
    return f"chat{text}" if text.isdigit() and int(text) > 0 else None


def _chat(action: A.ChatMessage, i: int) -> list[Command]:
    dialog = dialog_id(action.chat_id)
    if dialog is not None:
        return [
            Command(label(i), "im.message.add", {"DIALOG_ID": dialog, "MESSAGE": action.text}, i)
        ]
    if str(action.chat_id or "").strip():
        raise ValueError(f"chat id {action.chat_id!r} is not chat<number>")
    if not action.fallback_users:
        raise ValueError("no chat configured and nobody to notify instead")
    return [
        Command(
            label(i, n),
            "im.notify.system.add",
            {"USER_ID": uid, "MESSAGE": action.text},
            i,
            primary=n == 0,
        )
        for n, uid in enumerate(action.fallback_users)
    ]


def _comment(entity, record_id, text, i, naming, refs) -> Command:
    etid = naming.entity_type_id(entity)
    kind = TIMELINE_TYPE.get(etid, f"dynamic_{etid}")
    fields = {"ENTITY_ID": _rid(record_id, refs), "ENTITY_TYPE": kind, "COMMENT": text}
    return Command(label(i), "crm.timeline.comment.add", {"fields": fields}, i)


def _task(action: A.CreateTask, i: int, naming: Naming, refs) -> list[Command]:
    fields: dict[str, Any] = {
        "TITLE": action.title,
        "RESPONSIBLE_ID": action.responsible_id,
        "DESCRIPTION": action.description,
        "PRIORITY": str(action.priority),
    }
    if action.deadline:
        fields["DEADLINE"] = action.deadline.isoformat()
    if action.auditors:
        fields["AUDITORS"] = list(action.auditors)
    if action.bind_to:
        entity, rid = action.bind_to
        fields["UF_CRM_TASK"] = [binding(entity, _rid(rid, refs), naming)]
    out = [Command(label(i), "tasks.task.add", {"fields": fields}, i)]
    for n, item in enumerate(action.checklist, start=1):
        params = {
            "TASKID": f"$result[{label(i)}][task][id]",
            "FIELDS": {"TITLE": item, "SORT_INDEX": n * 10},
        }
        out.append(Command(label(i, n), "task.checklistitem.add", params, i, primary=False))
    return out
