"""Settle an uncertain create by finding it, instead of dropping or doubling it.

A create is claimed (``pending``) before its batch goes out. When the batch ends in a 500 or
a timeout, or the worker dies before settling, the portal may or may not have made the
record. So every create the app sends carries its claim key where the portal keeps it and
lets us find it again (:func:`marks`), and a retry looks for it first (:func:`look_up`):
found → the action is done, with that record's id (later ``Ref``s resolve to it); not
found → it is created now.

* CRM items (``crm.item.add``): leads, deals, contacts and companies get
  ``originatorId``/``originId`` (``ORIGINATOR_ID``/``ORIGIN_ID``, "identifier of the data
  source / of the element in the data source": api-reference/crm/deals/crm-deal-add.md,
  crm/contacts/crm-contact-add.md); smart-process items have neither and get ``xmlId``
  (api-reference/crm/universal/crm-item-fields.md). Found with ``crm.item.list`` filtered on
  those fields (crm/universal/crm-item-list.md: any field of the item).
* Tasks (``tasks.task.add``): ``XML_ID`` ("external identifier",
  api-reference/tasks/tasks-task-get-fields.md, ``xmlId`` in tasks/fields.md).
  ``tasks.task.list`` does not document filtering on it, so the list is filtered on what it
  does document (``TITLE`` + ``UF_CRM_TASK``, or ``TITLE`` + ``RESPONSIBLE_ID``) and matched on
  ``xmlId``. A found task's checklist (``task.checklistitem.getlist``) tells which items the
  first attempt did not add; only those are added.
* Timeline comments (``crm.timeline.comment.add``) have no field to tag, and
  ``crm.timeline.comment.list`` filters only on ``ENTITY_ID`` + ``ENTITY_TYPE``
  (crm/timeline/comments/crm-timeline-comment-list.md): a comment there with exactly our
  text, created since the claim was taken (less :data:`CLOCK_SKEW`), is ours.

System notifications are not looked up: each goes out with a ``TAG`` made of the claim key
and the user, and "when adding a notification with an existing tag, other notifications
will be removed" (api-reference/chats/notifications/im-notify-system-add.md) — so sending
one again leaves the user one notification, and a pending one is simply sent again. Chat
messages and messages to clients have nothing alike and stay at most once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.rules import actions as A
from app.rules.naming import Naming

ORIGINATOR = "b24app.rules"
CLOCK_SKEW = timedelta(minutes=10)  # the portal's clock against ours, for comments only
CRM_TYPES = (1, 2, 3, 4)  # lead, deal, contact, company: they have originatorId/originId
MARK_FIELDS = ("originatorId", "originId", "xmlId", "XML_ID")
TASK_SELECT = [
    "ID", "TITLE", "STATUS", "RESPONSIBLE_ID", "CREATED_BY", "DEADLINE", "CLOSED_DATE",
    "CREATED_DATE", "CHANGED_DATE", "UF_CRM_TASK", "XML_ID",
]  # fmt: skip


@dataclass(frozen=True)
class Found:
    """A record an earlier attempt made: its id, the value the create would have answered
    (``{"item": …}``, ``{"task": …}`` or the comment id) and, for a task, the titles of the
    checklist items it already has."""

    id: int
    value: Any
    checklist: tuple[str, ...] = field(default=())


def resolvable(action: A.Action) -> bool:
    """Creates that carry a mark (or, for comments, can be matched) and so can be found."""
    if isinstance(action, A.CreateRecord):
        return not any(name in action.fields for name in MARK_FIELDS)  # a rule's own wins
    return isinstance(action, A.CreateTask | A.TimelineComment)


def mark(key: str) -> str:
    return f"{ORIGINATOR}:{key}"


def marks(action: A.Action, key: str, naming: Naming) -> dict[str, Any]:
    """The fields that tag the record ``action`` creates with its claim ``key``; for a
    notification its ``TAG`` (made per user by ``app.rules.commands``)."""
    if isinstance(action, A.Notify):
        return {"TAG": mark(key)}
    if not resolvable(action):
        return {}
    if isinstance(action, A.CreateRecord):
        if naming.entity_type_id(action.entity) in CRM_TYPES:
            return {"originatorId": ORIGINATOR, "originId": key}
        return {"xmlId": mark(key)}
    if isinstance(action, A.CreateTask):
        return {"XML_ID": mark(key)}
    return {}


def look_up(
    client: Any,
    naming: Naming,
    items: Sequence[Any],
    since: Mapping[int, datetime],
    refs: Mapping[int, Mapping[str, Any]],
) -> tuple[dict[int, Found], dict[int, str]]:
    """Look for what the items at ``since``'s indexes (→ when their claim was taken) may
    have created. Returns (found by index, error by index for items that could not be
    looked up — left uncertain). Records first, so a task or comment on a ``Ref`` of a
    record found here is looked for on that record. ``refs``: per group, ids of records
    created by earlier runs."""
    known = {g: dict(r) for g, r in refs.items()}
    found: dict[int, Found] = {}
    errors: dict[int, str] = {}
    records = [i for i in since if isinstance(items[i].action, A.CreateRecord)]
    for i, hit in _records(client, naming, items, records, errors).items():
        found[i] = hit
        if items[i].action.ref:
            known.setdefault(items[i].group, {})[items[i].action.ref] = hit.id
    others = [i for i in since if i not in records]
    found.update(_tasks_and_comments(client, naming, items, others, since, known, errors))
    return found, errors


def _records(client, naming, items, indexes, errors) -> dict[int, Found]:
    cmd = {}
    for i in indexes:
        action, key = items[i].action, items[i].key
        try:
            etid = naming.entity_type_id(action.entity)
        except (KeyError, ValueError) as exc:  # the send step reports it as untranslatable
            errors[i] = f"cannot translate: {exc}"
            continue
        flt = marks(action, key, naming)
        cmd[_label(i)] = ("crm.item.list", {"entityTypeId": etid, "filter": flt, "select": ["*"]})
    out: dict[int, Found] = {}
    for i, value in _run(client, cmd, errors).items():
        rows = [r for r in (value or {}).get("items") or [] if isinstance(r, dict)]
        if rows:
            item = min(rows, key=lambda r: int(r["id"]))
            out[i] = Found(int(item["id"]), {"item": item})
    return out


def _tasks_and_comments(client, naming, items, indexes, since, known, errors):
    from app.rules.commands import TIMELINE_TYPE, binding

    cmd: dict[str, tuple[str, dict]] = {}
    for i in indexes:
        try:
            command = _find_command(naming, items[i], known, binding, TIMELINE_TYPE)
        except (KeyError, ValueError) as exc:
            errors[i] = f"cannot translate: {exc}"
            continue
        if command is not None:  # None: on a record only now being created, cannot exist yet
            cmd[_label(i)] = command
    return _match(client, items, cmd, since, errors)


def _find_command(naming, item, known, binding, timeline_type) -> tuple[str, dict] | None:
    action, group = item.action, item.group
    if isinstance(action, A.CreateTask):
        flt: dict[str, Any] = {"TITLE": action.title}
        if action.bind_to:
            rid = _rid(action.bind_to[1], known.get(group, {}))
            if rid is None:
                return None
            flt["UF_CRM_TASK"] = binding(action.bind_to[0], rid, naming)
        else:
            flt["RESPONSIBLE_ID"] = action.responsible_id
        return "tasks.task.list", {"filter": flt, "select": TASK_SELECT}
    rid = _rid(action.record_id, known.get(group, {}))
    if rid is None:
        return None
    etid = naming.entity_type_id(action.entity)
    flt = {"ENTITY_ID": rid, "ENTITY_TYPE": timeline_type.get(etid, f"dynamic_{etid}")}
    return "crm.timeline.comment.list", {"filter": flt, "order": {"ID": "DESC"}}


def _match(client, items, cmd, since, errors) -> dict[int, Found]:
    """Run the task and comment look-ups and match their answers to the actions."""
    out: dict[int, Found] = {}
    taken: set[int] = set()  # one comment answers for one action
    for i, value in _run(client, cmd, errors).items():
        action = items[i].action
        if isinstance(action, A.CreateTask):
            want = mark(items[i].key)
            tasks = (value or {}).get("tasks") if isinstance(value, dict) else value
            hits = [t for t in tasks or [] if isinstance(t, dict) and t.get("xmlId") == want]
            if hits:
                task = min(hits, key=lambda t: int(t["id"]))
                out[i] = Found(int(task["id"]), {"task": task})
        else:
            hit = _comment(value, action.text, since[i] - CLOCK_SKEW, taken)
            if hit is not None:
                taken.add(hit)
                out[i] = Found(hit, hit)
    checklists = {
        _label(i): ("task.checklistitem.getlist", {"TASKID": hit.id})
        for i, hit in out.items()
        if isinstance(items[i].action, A.CreateTask) and items[i].action.checklist
    }
    for i, value in _run(client, checklists, errors).items():
        titles = tuple(str(c.get("TITLE") or "") for c in value or [] if isinstance(c, dict))
        out[i] = Found(out[i].id, out[i].value, titles)
    for i in errors:
        out.pop(i, None)  # its checklist is unknown: not settled either way
    return out


def _comment(rows: Any, text: str, since: datetime, taken: set[int]) -> int | None:
    wanted = text.strip()
    for row in rows or []:
        if not isinstance(row, dict) or str(row.get("COMMENT") or "").strip() != wanted:
            continue
        cid = int(row["ID"])
        created = _when(row.get("CREATED"))
        if cid not in taken and created is not None and created >= since:
            return cid
    return None


def _when(value: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _rid(value: A.RecordId, refs: Mapping[str, Any]) -> int | None:
    if isinstance(value, A.Ref):
        known = refs.get(value.name)
        return int(known) if isinstance(known, int) or str(known).isdigit() else None
    return int(value)


def _label(index: int) -> str:
    return f"find{index}"


def _run(client, cmd, errors: dict[int, str]) -> dict[int, Any]:
    """One read-only batch; results by item index, failed look-ups into ``errors``."""
    from app.rules.batching import BATCH_LIMIT, run_batch

    results: dict[str, Any] = {}
    failed: dict[str, Any] = {}
    labels = list(cmd)
    for start in range(0, len(labels), BATCH_LIMIT):
        part = {label: cmd[label] for label in labels[start : start + BATCH_LIMIT]}
        got, bad = run_batch(client, part)
        results.update(got)
        failed.update(bad)
    out: dict[int, Any] = {}
    for label in cmd:
        index = int(label.removeprefix("find"))
        if label in failed:
            errors[index] = f"look-up failed: {failed[label]}"
        elif label in results:
            out[index] = results[label]
        else:
            errors[index] = "look-up failed: no result"
    return out
