"""Event name + ``data`` → the record it is about. Pure; the one place wire event names live
for CRM records (the handler, offline catch-up and tests share it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CRM_ENTITIES = {"LEAD": "lead", "DEAL": "deal", "CONTACT": "contact", "COMPANY": "company"}
VERBS = ("ADD", "UPDATE", "DELETE")
DYNAMIC_PREFIX = "dynamic:"
ACTIVITY = "activity"  # CRM activities (calls, e-mails, to-dos): legacy crm.activity.*, UPPER keys
TASK = "task"  # tasks.task.*: ONTASKADD/UPDATE/DELETE carry FIELDS_BEFORE / FIELDS_AFTER
TASK_EVENTS = ("ONTASKADD", "ONTASKUPDATE", "ONTASKDELETE")


def record_of(event: str, data: Mapping[str, Any] | None) -> tuple[str, int] | None:
    """``("lead", 17)`` for ``ONCRMLEADUPDATE {"FIELDS": {"ID": "17"}}``; smart-process items
    give ``("dynamic:1220", 22)`` (the job maps the entity type id to a stable code), task
    events ``("task", 123)``; None for events that are not about a record we mirror."""
    name = (event or "").upper()
    if name in TASK_EVENTS:
        return _task_of(data)
    fields = data.get("FIELDS") if isinstance(data, Mapping) else None
    if not isinstance(fields, Mapping):
        return None
    record_id = _int(fields.get("ID"))
    if record_id is None:
        return None
    if name == "ONCRMDEALMOVETOCATEGORY":
        return ("deal", record_id)
    if name in ("ONCRMACTIVITYADD", "ONCRMACTIVITYUPDATE", "ONCRMACTIVITYDELETE"):
        return (ACTIVITY, record_id)
    if name.startswith("ONCRMDYNAMICITEM"):
        verb = name.removeprefix("ONCRMDYNAMICITEM").split("_", 1)[0]
        etid = _int(fields.get("ENTITY_TYPE_ID"))
        if verb not in VERBS or etid is None:
            return None
        return (f"{DYNAMIC_PREFIX}{etid}", record_id)
    for wire, entity in CRM_ENTITIES.items():
        if name in (f"ONCRM{wire}{verb}" for verb in VERBS):
            return (entity, record_id)
    return None


def _task_of(data: Mapping[str, Any] | None) -> tuple[str, int] | None:
    """``{"FIELDS_AFTER": {"ID": 123}}`` → ``("task", 123)``; after a delete only
    ``FIELDS_BEFORE`` names it (the missing side is the literal string ``undefined``)."""
    if not isinstance(data, Mapping):
        return None
    for side in ("FIELDS_AFTER", "FIELDS_BEFORE"):
        fields = data.get(side)
        if isinstance(fields, Mapping):
            task_id = _int(fields.get("ID"))
            if task_id is not None:
                return (TASK, task_id)
    return None


MAX_ID = 2**31 - 1  # Bitrix ids are SQL INTs: anything larger is forged and would overflow


def _int(value: Any) -> int | None:
    text = str(value).strip()
    if not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None
