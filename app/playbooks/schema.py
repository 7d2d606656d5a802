"""What a playbook declares about a portal, as frozen data.

A :class:`Playbook` lists the configuration it needs: user fields, lead stages, deal
pipelines, smart processes, robot codes, events, widgets and typed settings. Codes are
stable across portals (``UF_CRM_OBJ_WIDTH``, ``metal.lead.data_complete``,
``metal.object``); the installer maps them to each portal's real ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STANDARD_ENTITIES = ("lead", "deal", "contact", "company")
FIELD_TYPES = frozenset(
    {
        "string",
        "integer",
        "double",
        "boolean",
        "date",
        "datetime",
        "enumeration",
        "employee",
        "crm",
        "money",
        "url",
        "file",
    }
)
SEMANTICS = ("", "S", "F")
SETTING_TYPES = frozenset({"int", "float", "str", "bool", "hours", "days", "minutes", "table"})


@dataclass(frozen=True)
class Text:
    """A label in the two languages the app ships with."""

    ru: str
    en: str

    def matches(self, name: str | None) -> bool:
        """Case- and space-insensitive match against either language (for adoption)."""
        norm = " ".join((name or "").split()).casefold()
        return bool(norm) and norm in {" ".join(t.split()).casefold() for t in (self.ru, self.en)}

    def as_map(self) -> dict[str, str]:
        return {"ru": self.ru, "en": self.en}


@dataclass(frozen=True)
class Option:
    """One value of a list (enumeration) field; ``code`` becomes its XML_ID."""

    code: str
    label: Text
    sort: int = 100


@dataclass(frozen=True)
class FieldSpec:
    """A user field. ``code`` is the stable UPPER name (``UF_CRM_OBJ_WIDTH``); on a smart
    process the real name is ``UF_CRM_{type.id}_OBJ_WIDTH``."""

    code: str
    entity: str  # "lead" | "deal" | "contact" | "company" | a smart process code
    type: str
    label: Text
    required: bool = False
    multiple: bool = False
    options: tuple[Option, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.code.startswith("UF_CRM_") or not self.code.replace("_", "").isalnum():
            raise ValueError(f"field code {self.code!r} must be UF_CRM_[A-Z0-9_]+")
        if self.code.upper() != self.code or len(self.code) > 40:
            raise ValueError(f"field code {self.code!r} must be upper case, ≤ 40 chars")
        if self.type not in FIELD_TYPES:
            raise ValueError(f"field {self.code}: unknown type {self.type!r}")
        if bool(self.options) != (self.type == "enumeration"):
            raise ValueError(f"field {self.code}: options go with enumeration only")

    @property
    def suffix(self) -> str:
        return self.code[len("UF_CRM_") :]


@dataclass(frozen=True)
class StageSpec:
    """A stage. ``status_id`` is the wanted STATUS_ID (without a pipeline prefix); the
    system ones (``NEW``, ``CONVERTED``, ``JUNK``, ``WON``, ``LOSE``, ``SUCCESS``, ``FAIL``)
    are adopted rather than created."""

    code: str
    status_id: str
    name: Text
    semantics: str = ""
    color: str = ""

    def __post_init__(self) -> None:
        if self.semantics not in SEMANTICS:
            raise ValueError(f"stage {self.code}: semantics must be '', 'S' or 'F'")
        if not self.status_id.replace("_", "").isalnum() or len(self.status_id) > 14:
            raise ValueError(f"stage {self.code}: bad status id {self.status_id!r}")


@dataclass(frozen=True)
class PipelineSpec:
    """A deal pipeline (crm.category) with its stages in display order."""

    code: str
    name: Text
    stages: tuple[StageSpec, ...]
    entity: str = "deal"
    sort: int = 500


@dataclass(frozen=True)
class SmartProcessSpec:
    """A smart process (crm.type) with one pipeline of stages and its own fields."""

    code: str
    title: Text
    stages: tuple[StageSpec, ...]
    parents: tuple[str, ...] = ()  # entities whose cards list this one (lead, deal, ...)
    client_enabled: bool = True


@dataclass(frozen=True)
class EventSpec:
    """An event the rules need: online to ``/events``, plus an offline copy for catch-up."""

    name: str
    offline: bool = True


@dataclass(frozen=True)
class WidgetSpec:
    """A placement. ``placement`` may name a smart process: ``CRM_DYNAMIC_{metal.object}_DETAIL_TAB``."""

    code: str
    placement: str
    title: Text


@dataclass(frozen=True)
class SettingSpec:
    """A typed per-portal setting with its default."""

    key: str
    type: str
    default: Any
    label: Text

    def __post_init__(self) -> None:
        if self.type not in SETTING_TYPES:
            raise ValueError(f"setting {self.key}: unknown type {self.type!r}")


@dataclass(frozen=True)
class Playbook:
    name: str
    title: Text
    fields: tuple[FieldSpec, ...] = ()
    lead_stages: tuple[StageSpec, ...] = ()
    pipelines: tuple[PipelineSpec, ...] = ()
    smart_processes: tuple[SmartProcessSpec, ...] = ()
    robots: tuple[str, ...] = ()
    events: tuple[EventSpec, ...] = ()
    widgets: tuple[WidgetSpec, ...] = ()
    settings: tuple[SettingSpec, ...] = ()

    def __post_init__(self) -> None:
        entities = set(STANDARD_ENTITIES) | {sp.code for sp in self.smart_processes}
        for f in self.fields:
            if f.entity not in entities:
                raise ValueError(f"{self.name}: field {f.code} on unknown entity {f.entity!r}")
        seen: set[tuple[str, str]] = set()
        for f in self.fields:
            if (f.entity, f.code) in seen:
                raise ValueError(f"{self.name}: field {f.code} declared twice on {f.entity}")
            seen.add((f.entity, f.code))
        codes = [s.code for s in self.all_stages()]
        if len(codes) != len(set(codes)):
            raise ValueError(f"{self.name}: duplicate stage codes")
        for sp in self.smart_processes:
            for parent in sp.parents:
                if parent not in STANDARD_ENTITIES:
                    raise ValueError(f"{sp.code}: parent {parent!r} is not a standard entity")

    def all_stages(self) -> list[StageSpec]:
        out = list(self.lead_stages)
        for p in self.pipelines:
            out.extend(p.stages)
        for sp in self.smart_processes:
            out.extend(sp.stages)
        return out

    def setting(self, key: str) -> SettingSpec:
        for s in self.settings:
            if s.key == key:
                return s
        raise KeyError(f"{self.name} has no setting {key!r}")


def stage(code: str, status_id: str, ru: str, en: str, semantics: str = "", color: str = ""):
    """Shorthand used by the playbook modules."""
    return StageSpec(code, status_id, Text(ru, en), semantics, color)
