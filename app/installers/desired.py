"""Several playbooks merged into one desired portal configuration (pure).

Shared things are declared once: a field with the same (entity, code) in two playbooks is
one field (a type mismatch between them is a conflict); lead stages with the same
STATUS_ID are one stage (first playbook's name wins; a semantics mismatch is a conflict).
The merged lead list is ordered deterministically: in-progress stages in playbook order
(NAMES order), then the success stage, then failures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.playbooks import load_many
from app.playbooks.schema import (
    EventSpec,
    FieldSpec,
    PipelineSpec,
    Playbook,
    SmartProcessSpec,
    StageSpec,
    WidgetSpec,
)

APP_EVENTS = ("ONAPPUPDATE", "ONAPPUNINSTALL")


@dataclass(frozen=True)
class Conflict:
    what: str  # stable key, e.g. "field lead:UF_CRM_MT_WIDTH"
    problem: str
    fix: str


@dataclass(frozen=True)
class Desired:
    playbooks: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    lead_stages: tuple[StageSpec, ...]
    stage_aliases: dict[str, str]  # merged-away stage code → the code kept in lead_stages
    pipelines: tuple[PipelineSpec, ...]
    smart_processes: tuple[SmartProcessSpec, ...]
    robots: tuple[str, ...]
    events: tuple[EventSpec, ...]
    widgets: tuple[WidgetSpec, ...]
    conflicts: tuple[Conflict, ...] = field(default=())
    lang: str = "ru"


def _merge_fields(books: list[Playbook], conflicts: list[Conflict]) -> list[FieldSpec]:
    seen: dict[tuple[str, str], tuple[FieldSpec, str]] = {}
    out: list[FieldSpec] = []
    for book in books:
        for f in book.fields:
            key = (f.entity, f.code)
            if key not in seen:
                seen[key] = (f, book.name)
                out.append(f)
                continue
            first, owner = seen[key]
            if (first.type, first.multiple) != (f.type, f.multiple):
                conflicts.append(
                    Conflict(
                        f"field {f.entity}:{f.code}",
                        f"{owner} declares {first.type}, {book.name} declares {f.type}",
                        "give one of the playbooks' fields another code",
                    )
                )
            elif f.options and {o.code for o in f.options} - {o.code for o in first.options}:
                merged = first.options + tuple(
                    o for o in f.options if o.code not in {x.code for x in first.options}
                )
                index = out.index(first)
                out[index] = FieldSpec(**{**first.__dict__, "options": merged})
                seen[key] = (out[index], owner)
    return out


def _merge_lead_stages(
    books: list[Playbook], conflicts: list[Conflict]
) -> tuple[list[StageSpec], dict[str, str]]:
    by_status: dict[str, StageSpec] = {}
    aliases: dict[str, str] = {}
    order: list[StageSpec] = []
    for book in books:
        for s in book.lead_stages:
            kept = by_status.get(s.status_id)
            if kept is None:
                by_status[s.status_id] = s
                order.append(s)
            elif kept.semantics != s.semantics:
                conflicts.append(
                    Conflict(
                        f"lead stage {s.status_id}",
                        f"{kept.code} is '{kept.semantics or 'in progress'}', "
                        f"{s.code} is '{s.semantics or 'in progress'}'",
                        "use a different STATUS_ID for one of them",
                    )
                )
            else:
                aliases[s.code] = kept.code
    rank = {"": 0, "S": 1, "F": 2}
    order.sort(key=lambda s: rank[s.semantics])  # stable: keeps playbook order inside a group
    return order, aliases


def build(playbook_names, lang: str = "ru") -> Desired:
    """The merged desired configuration of ``playbook_names``."""
    books = load_many(playbook_names)
    conflicts: list[Conflict] = []
    fields = _merge_fields(books, conflicts)
    lead, aliases = _merge_lead_stages(books, conflicts)
    events: dict[str, EventSpec] = {}
    for book in books:
        for e in book.events:
            prior = events.get(e.name)
            events[e.name] = EventSpec(e.name, e.offline or bool(prior and prior.offline))
    widgets: dict[tuple[str, str], WidgetSpec] = {}
    for book in books:
        for w in book.widgets:
            widgets.setdefault((w.code, w.placement), w)
    return Desired(
        playbooks=tuple(b.name for b in books),
        fields=tuple(fields),
        lead_stages=tuple(lead),
        stage_aliases=aliases,
        pipelines=tuple(p for b in books for p in b.pipelines),
        smart_processes=tuple(sp for b in books for sp in b.smart_processes),
        robots=tuple(sorted({code for b in books for code in b.robots})),
        events=tuple(events[name] for name in sorted(events)),
        widgets=tuple(widgets.values()),
        conflicts=tuple(conflicts),
        lang=lang,
    )
