"""What one entity type looks like right now: system fields, parent links, user fields and
the camelCase aliases of those user fields (recomputed whenever types or fields change)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from b24emu.crm import schema
from b24emu.crm.naming import uf_aliases
from b24emu.crm.schema import Field


@dataclass
class EntityView:
    etid: int
    name: str  # LEAD / DEAL / CONTACT / COMPANY / DYNAMIC_{etid}
    title: str
    uf_entity_id: str  # CRM_LEAD or CRM_{type.id}
    fields: dict[str, Field]  # camel → system field (incl. parentId*)
    ufs: dict[str, dict[str, Any]]  # UPPER name → user-field record
    uf_camel: dict[str, str]  # UPPER → camel alias
    camel_uf: dict[str, str]  # camel alias → UPPER
    by_upper: dict[str, Field] = field(default_factory=dict)  # legacy UPPER → system field
    smart_type: dict[str, Any] | None = None

    @property
    def has_stages(self) -> bool:
        return "stageId" in self.fields

    @property
    def has_categories(self) -> bool:
        return "categoryId" in self.fields and self.etid != schema.LEAD

    @property
    def has_fm(self) -> bool:
        return "fm" in self.fields

    @property
    def is_dynamic(self) -> bool:
        return self.etid not in schema.CLASSIC

    def uf_key(self, name: str, original: bool) -> str | None:
        """Internal (UPPER) key of a user field given as camel alias or UPPER name."""
        if name in self.ufs:
            return name
        if not original and name in self.camel_uf:
            return self.camel_uf[name]
        return None

    def internal_key(self, name: str, original: bool = False) -> str | None:
        """Storage key for a ``crm.item`` field name (``None`` when unknown)."""
        if name in self.fields:
            return name
        return self.uf_key(name, original)


def build_view(
    etid: int,
    smart_type: dict[str, Any] | None,
    parents: list[int],
    uf_records: list[dict[str, Any]],
) -> EntityView:
    """Assemble the view; ``parents`` are the ETIDs whose ``parentId{ETID}`` this type has."""
    if smart_type is None:
        system = list(schema.CLASSIC_FIELDS[etid])
        name, title, uf_entity = (
            schema.TYPE_NAMES[etid],
            schema.TITLES[etid],
            f"CRM_{schema.TYPE_NAMES[etid]}",
        )
    else:
        system = schema.spa_fields(smart_type)
        name, title = smart_type.get("typeName", f"DYNAMIC_{etid}"), smart_type["title"]
        uf_entity = smart_type.get("ufEntityId", f"CRM_{smart_type['id']}")
    system += [schema.parent_field(p) for p in parents]
    fields = {f.camel: f for f in system}
    ufs = {r["fieldName"]: r for r in uf_records}
    aliases = uf_aliases(list(ufs), set(fields))
    return EntityView(
        etid=etid,
        name=name,
        title=title,
        uf_entity_id=uf_entity,
        fields=fields,
        ufs=ufs,
        uf_camel=aliases,
        camel_uf={camel: upper for upper, camel in aliases.items()},
        by_upper={f.upper_name: f for f in system if f.legacy},
        smart_type=smart_type,
    )
