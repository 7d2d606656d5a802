"""Translation between the portal's raw names and our stable codes, for one portal.

The installer's SchemaMap (``app.installers.mapping``) knows which real field/stage/entity
each stable code became on a portal and implements :class:`Naming`, the few lookups the
engine needs. :class:`PlainNaming` (explicit tables; unknown names pass through) serves
portals without an installed schema, and tests.
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
    """The installer's SchemaMap (it speaks this protocol), or an empty :class:`PlainNaming`
    when the portal has no installed schema."""
    return PlainNaming() if schema is None else schema
