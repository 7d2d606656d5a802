"""The duplicate key of a lead, deal or Object snapshot (stable codes), and list values.

Leads and deals carry the dimensions as ``UF_CRM_MT_*``, Objects as ``UF_CRM_OBJ_*``. The
building purpose is a list field whose enum ids differ per entity, so it is compared by the
option's stable code (``warehouse``), which :func:`purpose_code` recovers from the
portal's SchemaMap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.domain.area import area_if_complete
from app.domain.dedup import ObjectKeys, normalise_keys
from app.domain.numbers import ValueProblem

OBJECT = "metal.object"
PREFIX = {"lead": "UF_CRM_MT_", "deal": "UF_CRM_MT_", OBJECT: "UF_CRM_OBJ_"}
DIMENSIONS = ("WIDTH", "LENGTH", "HEIGHT", "AREA", "SITE", "PURPOSE")
LINK_FIELD = "UF_CRM_MT_OBJECT"  # the lead's/deal's binding to its Object


def code(entity: str, name: str) -> str:
    """``code("lead", "WIDTH")`` → ``"UF_CRM_MT_WIDTH"``."""
    return PREFIX[entity] + name


def _options(naming: Any, entity: str, field_code: str) -> dict[str, str]:
    """``enum id → option code`` of a list field as installed (empty when unknown)."""
    records = getattr(naming, "records", None) or {}
    known = records.get(("field", f"{entity}:{field_code}"))
    options = (getattr(known, "meta", None) or {}).get("options") or {}
    return {str(real): str(option) for option, real in options.items()}


def purpose_code(naming: Any, entity: str, value: Any) -> str:
    """The option code of the record's purpose value (the raw value when not a known id)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if value in (None, ""):
        return ""
    return _options(naming, entity, code(entity, "PURPOSE")).get(str(value), str(value))


def purpose_value(naming: Any, entity: str, option: str) -> Any:
    """The enum id of ``option`` on ``entity`` (the code itself when not installed)."""
    if not option:
        return None
    for real, known in _options(naming, entity, code(entity, "PURPOSE")).items():
        if known == option:
            return int(real)
    return option


def keys_of(record: Mapping[str, Any] | None, entity: str, naming: Any) -> ObjectKeys | None:
    """Normalised keys of a snapshot keyed by stable codes; None when a value is unreadable."""
    if not record:
        return None
    try:
        return normalise_keys(
            width=record.get(code(entity, "WIDTH")),
            length=record.get(code(entity, "LENGTH")),
            height=record.get(code(entity, "HEIGHT")),
            area=area_of(record, entity),
            site=record.get(code(entity, "SITE")),
            purpose=purpose_code(naming, entity, record.get(code(entity, "PURPOSE"))),
        )
    except ValueProblem:
        return None


def area_of(record: Mapping[str, Any], entity: str) -> Any:
    """The record's area, or length × width when the area is not filled yet (the rule
    computing it writes in the same batch as the duplicate check runs)."""
    area = record.get(code(entity, "AREA"))
    if area not in (None, "", 0, 0.0):
        return area
    try:
        result = area_if_complete(
            record.get(code(entity, "LENGTH")), record.get(code(entity, "WIDTH"))
        )
    except ValueProblem:
        return None
    return None if result is None else result.area_m2


def copy_fields(record: Mapping[str, Any], source: str, target: str, naming: Any) -> dict:
    """The dimension fields of ``record`` (entity ``source``) as ``target``'s stable codes."""
    out: dict[str, Any] = {}
    for name in DIMENSIONS:
        value = record.get(code(source, name))
        if value in (None, "", []):
            continue
        if name == "PURPOSE":
            value = purpose_value(naming, target, purpose_code(naming, source, value))
        out[code(target, name)] = value
    return out


def linked_object(record: Mapping[str, Any] | None) -> int | None:
    """The Object id in the record's binding field (plain id or ``T<hex>_<id>``)."""
    value = (record or {}).get(LINK_FIELD)
    if isinstance(value, list):
        value = value[0] if value else None
    if value in (None, "", 0, "0"):
        return None
    text = str(value)
    try:
        return int(text.rsplit("_", 1)[-1])
    except ValueError:
        return None


def new_object_fields(record: Mapping[str, Any], entity: str, naming: Any) -> dict[str, Any]:
    """Fields of a new Object made from lead/deal ``record``: dimensions, site, purpose, the
    area (computed when the record has none yet), a title, and the record's responsible."""
    fields = copy_fields(record, entity, OBJECT, naming)
    area = area_of(record, entity)
    if area not in (None, "") and not fields.get(code(OBJECT, "AREA")):
        fields[code(OBJECT, "AREA")] = float(area)
    fields["title"] = str(record.get(code(entity, "SITE")) or record.get("title") or "Объект")
    who = record.get("assignedById")
    if who:
        fields["assignedById"] = int(who)
    return fields
