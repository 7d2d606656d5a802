"""Change detection: the mirror's snapshot vs the portal's current record → changes. Pure.

Both snapshots are raw ``crm.item`` dicts (camelCase); they are translated to stable codes
with the portal's :class:`~app.rules.naming.Naming` before comparing, so a field the
installer maps shows up under its code (``"UF_CRM_OBJ_WIDTH"``), and stage values as stable
stage codes.

Our own write, once recorded in the mirror, diffs to nothing: that is what stops echo loops.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from app.rules.model import (
    CREATED,
    DELETED,
    FIELD_CHANGED,
    RESPONSIBLE_CHANGED,
    RESPONSIBLE_FIELD,
    STAGE_ENTERED,
    STAGE_FIELD,
    STAGE_LEFT,
    TASK_COMPLETED,
    TASK_DONE,
    TASK_ENTITY,
    TASK_TAG,
    Change,
)
from app.rules.naming import Naming, PlainNaming

# Fields the portal changes on every write (or derives from others): a difference in these
# alone is not a change anyone reacts to.
VOLATILE_FIELDS = frozenset(
    {
        "updatedTime",
        "updatedBy",
        "movedTime",
        "movedBy",
        "lastActivityTime",
        "lastActivityBy",
        "previousStageId",
        "stageSemanticId",
        "lastCommunicationTime",
        "lastCommunicationCallTime",
        "lastCommunicationEmailTime",
        "lastCommunicationImolTime",
        "lastCommunicationWebformTime",
    }
)


def normalize(entity: str, raw: Mapping[str, Any] | None, naming: Naming) -> dict[str, Any] | None:
    """A raw item keyed by stable codes where mapped; the stage value as a stable code."""
    if raw is None:
        return None
    out: dict[str, Any] = {}
    for key, value in raw.items():
        out[naming.field_code(entity, key)] = value
    stage = out.get(STAGE_FIELD)
    if isinstance(stage, str) and stage:
        out[STAGE_FIELD] = naming.stage_code(entity, stage)
    return out


def _aliases(naming: Naming, entity: str, raw: Mapping[str, Any] | None) -> frozenset[str]:
    """Every stable code of the raw record's stage (SchemaMap.stage_codes when offered)."""
    stage = (raw or {}).get(STAGE_FIELD)
    codes = getattr(naming, "stage_codes", None)
    if not stage or not isinstance(stage, str) or codes is None:
        return frozenset()
    return frozenset(codes(entity, stage))


def _version(after: Mapping[str, Any]) -> str:
    """What identifies this state of the record across re-reads: the portal's updatedTime
    plus a digest of the content. updatedTime alone has whole seconds: a field ticked,
    cleared by us and ticked again within one second would look like the first tick
    replayed, and its rules would be skipped as already done. Volatile fields are left out
    of the digest, so a re-read of the same state gives the same version."""
    content = {k: v for k, v in after.items() if k not in VOLATILE_FIELDS}
    blob = json.dumps(content, sort_keys=True, default=str).encode()
    digest = hashlib.sha256(blob).hexdigest()[:16]
    stamp = after.get("updatedTime")
    return f"{stamp}#{digest}" if stamp else digest


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> frozenset[str]:
    """Names whose values differ (a key missing on one side counts only if the other side
    holds a non-empty value), volatile fields excluded."""
    names = set(before) | set(after)
    out = set()
    for name in names - VOLATILE_FIELDS:
        old, new = before.get(name), after.get(name)
        if name not in before or name not in after:
            if old in (None, "", [], {}) and new in (None, "", [], {}):
                continue
        if _norm(old) != _norm(new):
            out.add(name)
    return frozenset(out)


def _norm(value: Any) -> Any:
    # 5 and 5.0 are the same number; "5" stays a string (crm.item values are typed).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def diff(
    member_id: str,
    entity: str,
    record_id: int,
    before_raw: Mapping[str, Any] | None,
    after_raw: Mapping[str, Any] | None,
    naming: Naming | None = None,
) -> list[Change]:
    """Changes between the mirror snapshot ``before_raw`` and the current ``after_raw``.

    ``None`` before = the record is new to us (created, plus stage_entered of its first
    stage); ``None`` after = deleted. Each change's ``cause`` is stable across re-reads
    of the same state, so a retried job derives the same idempotency keys."""
    naming = naming or PlainNaming()
    before = normalize(entity, before_raw, naming)
    after = normalize(entity, after_raw, naming)
    base = {"member_id": member_id, "entity": entity, "record_id": int(record_id)}
    aliases = {
        "stage_from_codes": _aliases(naming, entity, before_raw),
        "stage_to_codes": _aliases(naming, entity, after_raw),
    }
    if before is None and after is None:
        return []
    if after is None:
        return [Change(kind=DELETED, cause="deleted", before=before, **base)]
    if before is None:
        out = [Change(kind=CREATED, cause="created", after=after, **base)]
        stage = after.get(STAGE_FIELD)
        if stage:
            out.append(
                Change(
                    kind=STAGE_ENTERED,
                    cause=f"stage:>{stage}@created",
                    stage_to=stage,
                    after=after,
                    stage_to_codes=aliases["stage_to_codes"],
                    **base,
                )
            )
        return out

    fields = changed_fields(before, after)
    if not fields:
        return []
    version = _version(after)
    common = {"fields_changed": fields, "before": before, "after": after, **base, **aliases}
    out: list[Change] = []
    if STAGE_FIELD in fields:
        old, new = before.get(STAGE_FIELD), after.get(STAGE_FIELD)
        moved = after.get("movedTime") or version
        stage_cause = f"stage:{old}>{new}@{moved}"
        if old:
            out.append(
                Change(kind=STAGE_LEFT, cause=stage_cause, stage_from=old, stage_to=new, **common)
            )
        if new:
            out.append(
                Change(
                    kind=STAGE_ENTERED, cause=stage_cause, stage_from=old, stage_to=new, **common
                )
            )
    if RESPONSIBLE_FIELD in fields:
        who = after.get(RESPONSIBLE_FIELD)
        out.append(Change(kind=RESPONSIBLE_CHANGED, cause=f"responsible:{who}@{version}", **common))
    plain = fields - {STAGE_FIELD, RESPONSIBLE_FIELD, "categoryId"}
    if plain:
        cause = f"fields:{','.join(sorted(plain))}@{version}"
        out.append(Change(kind=FIELD_CHANGED, cause=cause, **common))
    if entity == TASK_ENTITY and "status" in fields and _done(after) and not _done(before):
        # one cause per task, whatever the version: reopening and closing the task again
        # must not start the next step of the plan a second time
        tag = str(after.get(TASK_TAG) or "")
        out.append(
            Change(kind=TASK_COMPLETED, cause="task:completed", detail={"name": tag}, **common)
        )
    return out


def _done(task: Mapping[str, Any]) -> bool:
    return str(task.get("status") or "") == TASK_DONE
