"""Bitrix24 tasks as mirrored records: the wire shape in, one snapshot shape out.

Tasks are not ``crm.item`` records: ``tasks.task.get`` answers camelCase with string values
and returns the CRM binding (``ufCrmTask: ["L_17"]``) only when it is selected, and every
task of the portal fires ``ONTASK*`` — not just ours. So:

* :func:`snapshot` keeps the few fields rules look at (status, title, responsible, deadline,
  binding) under fixed names; the task's ``changedDate`` becomes ``updatedTime``, so the
  mirror's "newer than" check and the diff's volatile-field list work as for CRM records;
* the app mirrors only the tasks it created (``app.rules.writeback`` stores them when the
  ``CreateTask`` is applied, with the :data:`TAG` the playbook gave the task); events about
  other tasks are dropped by ``app.sync.process`` without a read;
* :data:`BOUND` is the gather need that hands a task rule the CRM record the task is bound
  to, read from the mirror (a binding string cannot be chained inside one batch);
* :data:`OPEN_TASKS` is the reverse: a CRM record's open tasks of the app (``task_links``,
  kept by a mirror listener), so a rule moves the task it made instead of adding a second.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.rules.model import TASK_DONE, TASK_ENTITY, TASK_TAG
from app.store import task_links
from app.sync.gather import GatherEnv, provider

TASK = TASK_ENTITY
# What the playbook called the task when it created it (e.g. "kitchens.measurer"); kept in
# the mirrored snapshot only — it never goes to the portal, so nobody can edit it away.
TAG = TASK_TAG
COMPLETED = TASK_DONE  # tasks.task status: 2 pending, 3 in progress, 4 awaiting control, 5 done
SELECT = [
    "ID",
    "TITLE",
    "STATUS",
    "RESPONSIBLE_ID",
    "CREATED_BY",
    "DEADLINE",
    "CLOSED_DATE",
    "CHANGED_DATE",
    "CREATED_DATE",
    "UF_CRM_TASK",
]
BOUND = "task.bound"
OPEN_TASKS = "record.open_tasks"
DEFERRED = "6"
_ABBR = {"L": "lead", "D": "deal", "C": "contact", "CO": "company"}


def snapshot(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The mirrored shape of a ``tasks.task.get/add`` task dict (None when not a task)."""
    if not isinstance(raw, Mapping) or not raw.get("id"):
        return None
    out: dict[str, Any] = {
        "id": str(raw["id"]),
        "title": raw.get("title"),
        "status": str(raw.get("status") or ""),
        "responsibleId": _str(raw.get("responsibleId")),
        "createdBy": _str(raw.get("createdBy")),
        "deadline": raw.get("deadline"),
        "closedDate": raw.get("closedDate"),
        "createdDate": raw.get("createdDate"),  # the b2b task report's "new in the period"
        "updatedTime": raw.get("changedDate"),
    }
    if "ufCrmTask" in raw:
        out["ufCrmTask"] = [str(b) for b in raw.get("ufCrmTask") or []]
    return out


def _str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def bindings(task: Mapping[str, Any] | None) -> list[tuple[str, int]]:
    """``["L_17", "D_3"]`` → ``[("lead", 17), ("deal", 3)]`` (smart processes skipped)."""
    out = []
    for value in (task or {}).get("ufCrmTask") or []:
        abbr, _, rid = str(value).partition("_")
        if abbr in _ABBR and rid.isdigit():
            out.append((_ABBR[abbr], int(rid)))
    return out


def is_open(task: Mapping[str, Any] | None) -> bool:
    """Neither completed nor deferred."""
    return str((task or {}).get("status") or "") not in (COMPLETED, DEFERRED)


def is_gone_error(error: object) -> bool:
    """``tasks.task.*`` answers ERROR_CORE "Task not found or not accessible" (#8) for a
    deleted task — and for one we may no longer see, which is as gone for our rules."""
    text = str(error)
    return "TASKS_ERROR_EXCEPTION_#8;" in text and "not found" in text.lower()


def is_completed(task: Mapping[str, Any] | None) -> bool:
    return str((task or {}).get("status") or "") == COMPLETED


@provider(BOUND)
def bound_record(env: GatherEnv) -> dict[str, Any] | None:
    """``{"entity", "id", "record"}`` of the first CRM record the task is bound to, the
    record as the mirror holds it (stable codes); None when unbound or never mirrored."""
    from app.rules.changes import normalize
    from app.store import mirror

    for entity, record_id in bindings(env.record):
        raw = mirror.get(env.session, env.member_id, entity, record_id)
        if raw is not None:
            return {
                "entity": entity,
                "id": record_id,
                "record": normalize(entity, raw, env.naming),
            }
    return None


def open_task_rows(session, member_id: str, entity: str, record_id: int) -> list[dict[str, Any]]:
    """A record's open tasks of the app as rules see them (the ``OPEN_TASKS`` need):
    ``[{"id", "tag", "deadline", "responsibleId"}]``, oldest first (one indexed read)."""
    return [
        {"id": t.id, "tag": t.tag, "deadline": t.deadline, "responsibleId": t.responsible_id}
        for t in task_links.open_tasks(session, member_id, entity, record_id)
    ]


@provider(OPEN_TASKS)
def open_tasks(env: GatherEnv) -> list[dict[str, Any]]:
    """:func:`open_task_rows` of the record (tasks are never bound to tasks)."""
    if env.entity == TASK:
        return []
    return open_task_rows(env.session, env.member_id, env.entity, env.record_id)


def _on_mirror(session, member_id: str, entity: str, record_id: int, data) -> None:
    """Keep ``task_links`` in step with the mirrored task (same transaction)."""
    if entity != TASK:
        return
    bound = bindings(data) if data is not None else []
    if not bound:
        task_links.remove(session, member_id, record_id)
        return
    who = _str(data.get("responsibleId"))
    task_links.put(
        session,
        member_id,
        record_id,
        *bound[0],
        tag=str(data.get(TAG) or ""),
        open=is_open(data),
        deadline=_str(data.get("deadline")),
        responsible_id=int(who) if who and who.isdigit() else None,
    )


def install() -> None:
    """Follow the mirror (idempotent; done on import: every path that mirrors a task —
    the fetch, the write-back — imports this module first)."""
    from app.store import mirror

    mirror.listen(_on_mirror)


install()
