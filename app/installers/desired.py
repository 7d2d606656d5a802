"""Several playbooks merged into one desired portal configuration (pure).

Shared things are declared once: a field with the same (entity, code) in two playbooks is
one field (a type mismatch between them is a conflict); lead stages with the same
STATUS_ID are one stage (first playbook's code; its name unless the admin chose another
playbook's names — setting ``shared_lead_stage_names``; a semantics mismatch is a conflict).
The merged lead list is ordered deterministically: in-progress stages in playbook order
(NAMES order), then the success stage, then failures.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

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
    books: list[Playbook], conflicts: list[Conflict], names_from: str | None = None
) -> tuple[list[StageSpec], dict[str, str]]:
    by_status: dict[str, StageSpec] = {}
    aliases: dict[str, str] = {}
    order: list[StageSpec] = []
    for book in books:
        for s in book.lead_stages:
            kept = by_status.get(s.status_id)
            if kept is not None and book.name == names_from and kept.semantics == s.semantics:
                # the admin chose this playbook's names for shared stages: the first
                # playbook keeps the code (rules and the mirror know it), the name changes
                named = replace(kept, name=s.name, color=s.color or kept.color)
                order[order.index(kept)] = by_status[s.status_id] = named
                aliases[s.code] = kept.code
                continue
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


def lead_funnel(desired: Desired) -> list[str]:
    """The merged lead list, one readable line per stage with the playbooks that use it —
    empty unless several installed playbooks share the portal's one lead list."""
    from app.playbooks.lead_owner import playbook_of_code

    users: dict[str, list[str]] = {
        s.code: [playbook_of_code(s.code) or "?"] for s in desired.lead_stages
    }
    for alias, kept in desired.stage_aliases.items():
        users.setdefault(kept, []).append(playbook_of_code(alias) or "?")
    sharing = {p for names in users.values() for p in names}
    if len(sharing) < 2:
        return []
    marks = {"": " ", "S": "S", "F": "F"}
    lines = [
        f"lead list shared by {', '.join(p for p in desired.playbooks if p in sharing)} "
        "(names as declared; stages the portal already had keep its names):"
    ]
    for s in desired.lead_stages:
        name = getattr(s.name, desired.lang)
        lines.append(
            f"  {marks[s.semantics]} {s.status_id:<14} «{name}»  {', '.join(users[s.code])}"
        )
    return lines


def build(playbook_names, lang: str = "ru", stage_names_from: str | None = None) -> Desired:
    """The merged desired configuration of ``playbook_names``; shared lead stages carry
    the names of ``stage_names_from`` (default: the first playbook that declares them)."""
    books = load_many(playbook_names)
    conflicts: list[Conflict] = []
    fields = _merge_fields(books, conflicts)
    lead, aliases = _merge_lead_stages(books, conflicts, stage_names_from)
    events: dict[str, EventSpec] = {}
    for book in books:
        for e in book.events:
            prior = events.get(e.name)
            events[e.name] = EventSpec(e.name, e.offline or bool(prior and prior.offline))
    from app.playbooks.app_widgets import app_widgets_for

    widgets: dict[tuple[str, str], WidgetSpec] = {}
    for book in books:
        for w in book.widgets:
            widgets.setdefault((w.code, w.placement), w)
    if books:  # the app's own pages come with any installation (app.playbooks.app_widgets)
        for w in app_widgets_for(b.name for b in books):
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
