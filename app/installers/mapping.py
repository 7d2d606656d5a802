"""Stable codes → this portal's real names, for rules and reports: :func:`resolve`.

    schema = resolve(session, member_id)
    schema.field("UF_CRM_OBJ_WIDTH")          # FieldRef(upper="UF_CRM_7_OBJ_WIDTH", camel="ufCrm7ObjWidth", ...)
    schema.stage("metal.lead.data_complete")  # "MT_DATA_OK"
    schema.entity_type("metal.object")        # 1030
    schema.enum_id("UF_CRM_MT_PURPOSE", "warehouse", entity="lead")  # 3157

A SchemaMap also speaks the rule engine's ``Naming`` protocol (``app.rules.naming``):
``field_name(entity, code)`` gives the camelCase name used by ``crm.item.*``.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.installers.wire import STANDARD_ETID, camel_name
from app.store import schema_objects
from app.store.schema_objects import Known


@dataclass(frozen=True)
class FieldRef:
    code: str
    entity: str
    upper: str
    camel: str
    id: str | None


def _stage_entity(list_id: str, etid_to_code: dict[int, str]) -> str:
    if list_id == "STATUS":
        return "lead"
    if list_id.startswith("DEAL_STAGE"):
        return "deal"
    if list_id.startswith("DYNAMIC_"):
        return etid_to_code.get(int(list_id.split("_")[1]), list_id)
    return list_id


class SchemaMap:
    """Read-only lookups over one portal's installer records."""

    def __init__(self, records: dict[tuple[str, str], Known]) -> None:
        self.records = records
        self.entity_types: dict[str, int] = dict(STANDARD_ETID)
        for (kind, code), k in records.items():
            if kind == "type" and k.meta.get("entityTypeId"):
                self.entity_types[code] = int(k.meta["entityTypeId"])
        by_etid = {v: k for k, v in self.entity_types.items()}
        self._fields: dict[str, dict[str, FieldRef]] = {}
        self.fields: dict[str, dict[str, str]] = {}  # entity → code → camel (Naming tables)
        self.stages: dict[str, dict[str, str]] = {}  # entity → code → STATUS_ID
        self.aliases: dict[str, str] = {}  # a playbook's stage code → the shared one kept
        for (kind, code), k in sorted(records.items()):
            if kind == "field" and k.real_name:
                entity, _, stable = code.partition(":")
                ref = FieldRef(stable, entity, k.real_name, camel_name(k.real_name), k.real_id)
                self._fields.setdefault(entity, {})[stable] = ref
                self.fields.setdefault(entity, {})[stable] = ref.camel
            elif kind == "stage" and k.real_name:
                entity = _stage_entity(str(k.meta.get("list", "")), by_etid)
                self.stages.setdefault(entity, {})[code] = k.real_name
                if k.meta.get("alias_of"):
                    self.aliases[code] = str(k.meta["alias_of"])

    # -- the lookups of the issue ---------------------------------------------------------
    def field(self, code: str, entity: str | None = None) -> FieldRef:
        for ent in [entity] if entity else sorted(self._fields, key=_standard_first):
            ref = self._fields.get(ent, {}).get(code)
            if ref:
                return ref
        raise KeyError(f"field {code!r} is not installed on this portal")

    def stage(self, code: str) -> str:
        for table in self.stages.values():
            if code in table:
                return table[code]
        raise KeyError(f"stage {code!r} is not installed on this portal")

    def entity_type(self, code: str) -> int:
        if code not in self.entity_types:
            raise KeyError(f"entity {code!r} is not installed on this portal")
        return self.entity_types[code]

    def enum_id(self, field_code: str, value_code: str, entity: str | None = None) -> int:
        ref = self.field(field_code, entity)
        k = self.records.get(("field", f"{ref.entity}:{ref.code}"))
        options = (k.meta.get("options") if k else None) or {}
        if value_code not in options:
            raise KeyError(f"{field_code} has no installed value {value_code!r}")
        return int(options[value_code])

    def category(self, code: str) -> int:
        k = self.records.get(("category", code))
        if k is None or k.real_id is None:
            raise KeyError(f"pipeline {code!r} is not installed on this portal")
        return int(k.real_id)

    # -- app.rules.naming.Naming protocol --------------------------------------------------
    def entity_type_id(self, entity: str) -> int:
        if entity.startswith("dynamic:"):
            return int(entity.split(":", 1)[1])
        return self.entity_type(entity)

    def entity_for_type_id(self, entity_type_id: int) -> str | None:
        for name, etid in self.entity_types.items():
            if etid == int(entity_type_id):
                return name
        return None

    def field_code(self, entity: str, raw: str) -> str:
        for code, camel in self.fields.get(entity, {}).items():
            if raw in (camel, self._fields[entity][code].upper):
                return code
        return raw

    def field_name(self, entity: str, code: str) -> str:
        return self.fields.get(entity, {}).get(code, code)

    def stage_code(self, entity: str, raw: str) -> str:
        """The stable code of a real stage. Where playbooks share one stage (``NEW`` is
        metal's «Не обработан» and kitchens' too) this is the code kept by the merge;
        :meth:`stage_codes` lists every code that names it."""
        codes = self.stage_codes(entity, raw)
        canonical = [c for c in codes if c not in self.aliases]
        return (canonical or codes or [raw])[0]

    def stage_codes(self, entity: str, raw: str) -> list[str]:
        return [code for code, sid in self.stages.get(entity, {}).items() if sid == raw]

    def stage_id(self, entity: str, code: str) -> str:
        return self.stages.get(entity, {}).get(code, code)


def _standard_first(entity: str) -> tuple[int, str]:
    return (0 if entity in STANDARD_ETID else 1, entity)


def resolve(session, member_id: str) -> SchemaMap:
    """The SchemaMap of ``member_id`` from the installer's records (empty when none)."""
    return SchemaMap(schema_objects.load(session, member_id))
