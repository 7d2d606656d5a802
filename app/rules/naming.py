"""Translation between the portal's raw names and our stable codes, for one portal.

The installer's SchemaMap (``app.installers.mapping``) knows which real field/stage/entity
each stable code became on a portal. The engine only needs a few lookups, expressed by
:class:`Naming`; :func:`naming_for` adapts whatever SchemaMap object the installer returns,
and :class:`PlainNaming` (no mappings) is used when a portal has no installed schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

STANDARD_ENTITY_TYPE_IDS = {"lead": 1, "deal": 2, "contact": 3, "company": 4}


class Naming(Protocol):
    def entity_type_id(self, entity: str) -> int: ...
    def entity_for_type_id(self, entity_type_id: int) -> str | None: ...
    def field_code(self, entity: str, raw: str) -> str: ...
    def field_name(self, entity: str, code: str) -> str: ...
    def stage_code(self, entity: str, raw: str) -> str: ...
    def stage_id(self, entity: str, code: str) -> str: ...


@dataclass(frozen=True)
class PlainNaming:
    """Explicit tables (raw camelCase ↔ stable code); unknown names pass through unchanged."""

    entity_types: Mapping[str, int] = field(default_factory=dict)
    fields: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # entity → code → raw
    stages: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # entity → code → raw

    def entity_type_id(self, entity: str) -> int:
        if entity.startswith("dynamic:"):  # an unmapped smart process, as events name it
            return int(entity.split(":", 1)[1])
        if entity in STANDARD_ENTITY_TYPE_IDS:
            return STANDARD_ENTITY_TYPE_IDS[entity]
        if entity in self.entity_types:
            return int(self.entity_types[entity])
        raise KeyError(f"entity {entity!r} is not installed on this portal")

    def entity_for_type_id(self, entity_type_id: int) -> str | None:
        for name, etid in {**STANDARD_ENTITY_TYPE_IDS, **self.entity_types}.items():
            if int(etid) == int(entity_type_id):
                return name
        return None

    def field_code(self, entity: str, raw: str) -> str:
        for code, name in self.fields.get(entity, {}).items():
            if name == raw:
                return code
        return raw

    def field_name(self, entity: str, code: str) -> str:
        return self.fields.get(entity, {}).get(code, code)

    def stage_code(self, entity: str, raw: str) -> str:
        for code, sid in self.stages.get(entity, {}).items():
            if sid == raw:
                return code
        return raw

    def stage_id(self, entity: str, code: str) -> str:
        return self.stages.get(entity, {}).get(code, code)


def resolve_entity(naming: Naming, entity: str) -> str:
    """``"dynamic:1220"`` → the smart process's stable code when installed, else unchanged."""
    if entity.startswith("dynamic:"):
        return naming.entity_for_type_id(int(entity.split(":", 1)[1])) or entity
    return entity


def naming_for(schema: Any) -> Naming:
    """A :class:`Naming` over ``schema``: itself when it already speaks this protocol, an
    empty :class:`PlainNaming` for None."""
    if schema is None:
        return PlainNaming()
    if all(hasattr(schema, m) for m in ("field_code", "field_name", "stage_code", "stage_id")):
        return schema
    return _SchemaMapNaming(schema)


class _SchemaMapNaming:
    """Adapter for the installer's SchemaMap (mapping-like tables of stable code → real)."""

    def __init__(self, schema: Any) -> None:
        self._schema = schema
        self._plain = PlainNaming(
            entity_types=_table(schema, "entity_types", "entities"),
            fields=_table(schema, "fields", "field_names"),
            stages=_table(schema, "stages", "stage_ids"),
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._plain, name)


def _table(schema: Any, *names: str) -> dict:
    for name in names:
        value = getattr(schema, name, None)
        if isinstance(value, Mapping):
            return dict(value)
    return {}
