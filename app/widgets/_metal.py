"""Reading a metal «Объект» for the widgets: a plain view of one mirrored Object.

Store only (the mirror, the duplicate index and the cached user directory): no portal call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.objects.keys import OBJECT, code, purpose_code
from app.rules.changes import normalize
from app.store import mirror
from app.widgets._store import naming, user_name


@dataclass(frozen=True)
class ObjectView:
    id: int
    title: str
    site: str
    area: Any
    tonnage: Any
    purpose: str
    stage: str
    responsible: str
    duplicates: list[int]


def _purpose_label(option: str, lang: str) -> str:
    from app.playbooks.metal import PURPOSES

    for opt in PURPOSES:
        if opt.code == option:
            return getattr(opt.label, lang)
    return option


def _stage_label(stage: Any, lang: str) -> str:
    from app.playbooks.metal import OBJECT_PROCESS

    for spec in OBJECT_PROCESS.stages:
        if spec.code == stage:
            return getattr(spec.name, lang)
    return str(stage or "")


def _number(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return "" if value in (None, []) else value


def load_object(session, member_id: str, object_id: int, lang: str) -> ObjectView | None:
    """The mirrored Object with its duplicate candidates, or None when not mirrored."""
    from app.objects import window

    names = naming(session, member_id)
    raw = mirror.get(session, member_id, OBJECT, object_id)
    if raw is None:
        return None
    record = normalize(OBJECT, raw, names) or {}
    try:
        duplicates = window.candidates(session, member_id, object_id)
    except Exception:  # noqa: BLE001 - an unreadable key means "no candidates", not a crash
        duplicates = []
    return ObjectView(
        id=object_id,
        title=str(record.get("title") or ""),
        site=str(record.get(code(OBJECT, "SITE")) or ""),
        area=_number(record.get(code(OBJECT, "AREA"))),
        tonnage=_number(record.get("UF_CRM_OBJ_TONNAGE")),
        purpose=_purpose_label(
            purpose_code(names, OBJECT, record.get(code(OBJECT, "PURPOSE"))), lang
        ),
        stage=_stage_label(record.get("stageId"), lang),
        responsible=user_name(session, member_id, record.get("assignedById")),
        duplicates=duplicates,
    )
