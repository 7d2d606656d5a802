"""``plan(desired, current, known)`` — pure: what to add, change or leave, as a :class:`Plan`.

It never deletes or renames what the app did not create and never touches records, only
configuration. Containers (smart processes, pipelines) come first; what lives inside a
container that does not exist yet is listed as waiting and planned for real on the next
round of apply, once the container's ids are known.
"""

from __future__ import annotations

from app.installers.current import Snapshot
from app.installers.desired import Desired, lead_funnel
from app.installers.plan_app import plan_events, plan_robots, plan_widgets
from app.installers.plan_fields import plan_fields
from app.installers.plan_model import CONTAINERS, Plan, Step
from app.installers.plan_stages import StageList, plan_list
from app.installers.wire import STANDARD_ETID, stage_prefix, status_entity
from app.store.schema_objects import Known
from app.sync.connector import KEY as CONNECTOR_KEY


def _type_step(sp, lang: str) -> Step:
    parents = [
        {"entityTypeId": STANDARD_ETID[p], "isChildrenListEnabled": "true"} for p in sp.parents
    ]
    fields = {
        "title": getattr(sp.title, lang),
        "isCategoriesEnabled": "Y",
        "isStagesEnabled": "Y",
        "isClientEnabled": "Y" if sp.client_enabled else "N",
        "isAutomationEnabled": "Y",
        "isBizProcEnabled": "Y",
        "isUseInUserfieldEnabled": "Y",
        # tasks may be bound to its items (UF_CRM_TASK "T{hex}_{id}"); the doc's values are
        # the strings "true"/"false", not Y/N (crm-type-add.md, linkedUserFields)
        "linkedUserFields": {"TASKS_TASK|UF_CRM_TASK": "true"},
        "relations": {"parent": parents, "child": []},
    }
    return Step(
        "type",
        "add",
        sp.code,
        f"smart process {sp.code} «{getattr(sp.title, lang)}»",
        "crm.type.add",
        {"fields": fields},
        CONTAINERS,
        Known("type", sp.code, None, None, True),
        "type",
    )


def _types(plan: Plan, desired: Desired, snap: Snapshot, known) -> dict[str, dict]:
    """Smart process code → its current type row (matched or adopted)."""
    out: dict[str, dict] = {}
    taken: set[int] = set()
    for sp in desired.smart_processes:
        k = known.get(("type", sp.code))
        row = next((t for t in snap.types if k and str(t["id"]) == k.real_id), None)
        if row is None:
            row = next(
                (
                    t
                    for t in snap.types
                    if t["id"] not in taken and sp.title.matches(t.get("title"))
                ),
                None,
            )
            if row is not None and not k:
                plan.adopted.append(f"smart process {sp.code} → type {row['id']} «{row['title']}»")
        if row is None:
            plan.steps.append(_type_step(sp, desired.lang))
            continue
        taken.add(row["id"])
        out[sp.code] = row
        mine = _ours(k, row["id"])
        meta = {"entityTypeId": int(row["entityTypeId"])}
        plan.matches.append(Known("type", sp.code, str(row["id"]), None, mine, meta))
        plan.unchanged += 1
    return out


def _pipelines(plan: Plan, desired: Desired, snap: Snapshot, known) -> dict[str, dict]:
    out: dict[str, dict] = {}
    rows = snap.categories.get(2, [])
    taken: set[int] = set()
    for p in desired.pipelines:
        k = known.get(("category", p.code))
        row = next((r for r in rows if k and str(r["id"]) == k.real_id), None)
        if row is None:
            row = next(
                (r for r in rows if r["id"] not in taken and p.name.matches(r.get("name"))), None
            )
            if row is not None and not k:
                plan.adopted.append(f"pipeline {p.code} → category {row['id']} «{row['name']}»")
        if row is None:
            plan.steps.append(
                Step(
                    "category",
                    "add",
                    p.code,
                    f"deal pipeline {p.code} «{getattr(p.name, desired.lang)}»",
                    "crm.category.add",
                    {
                        "entityTypeId": 2,
                        "fields": {"name": getattr(p.name, desired.lang), "sort": p.sort},
                    },
                    CONTAINERS,
                    Known("category", p.code, None, None, True, {"entityTypeId": 2}),
                    "category",
                )
            )
            continue
        taken.add(row["id"])
        out[p.code] = row
        mine = _ours(k, row["id"])
        plan.matches.append(
            Known("category", p.code, str(row["id"]), None, mine, {"entityTypeId": 2})
        )
        plan.unchanged += 1
    return out


def _ours(k: Known | None, real_id) -> bool:
    """Created by the app: recorded as ours with this id, or an add intent recorded before
    the write whose result never came back (crash mid-batch)."""
    return bool(k and k.owned and k.real_id in (None, str(real_id)))


def _owned(plan: Plan, kind: str, code: str) -> bool:
    return any(m.owned for m in plan.matches if m.kind == kind and m.code == code)


def _waiting(plan: Plan, stages, container: str) -> None:
    for s in stages:
        plan.steps.append(
            Step("stage", "add", s.code, f"{s.code} «{s.name.ru}»", waits_for=container)
        )


def plan(
    desired: Desired,
    snap: Snapshot,
    known: dict[tuple[str, str], Known],
    base_url: str,
    robot_specs: dict,
    robot_user: int = 1,
    keep_widgets=None,
) -> Plan:
    """Everything needed to bring the portal to ``desired`` (see module doc).

    ``keep_widgets``: the widgets the installation wants as a whole (its own playbooks and
    the app's pages) when ``desired`` is only a part of it; our bindings outside it are
    unbound (default: ``desired.widgets``)."""
    out = Plan(conflicts=list(desired.conflicts), funnel=lead_funnel(desired))
    types = _types(out, desired, snap, known)
    pipelines = _pipelines(out, desired, snap, known)
    plan_list(
        out,
        StageList("lead stages", "STATUS", "", False),
        desired.lead_stages,
        snap.statuses.get("STATUS", []),
        known,
        desired.lang,
        desired.stage_aliases,
        snap.occupied.get("STATUS"),
    )
    for p in desired.pipelines:
        row = pipelines.get(p.code)
        if row is None:
            _waiting(out, p.stages, p.code)
            continue
        cat = int(row["id"])
        where = StageList(
            f"pipeline {p.code}",
            status_entity(2, cat),
            stage_prefix(2, cat),
            _owned(out, "category", p.code),
        )
        rows = snap.statuses.get(where.entity_id, [])
        occupied = snap.occupied.get(where.entity_id)
        plan_list(out, where, p.stages, rows, known, desired.lang, occupied=occupied)
    etids = {code: int(t["entityTypeId"]) for code, t in types.items()}
    for sp in desired.smart_processes:
        row = types.get(sp.code)
        cats = snap.categories.get(etids.get(sp.code, -1), [])
        default = next((c for c in cats if c.get("isDefault") == "Y"), cats[0] if cats else None)
        if row is None or default is None:
            _waiting(out, sp.stages, sp.code)
            continue
        etid, cat = etids[sp.code], int(default["id"])
        where = StageList(
            f"smart process {sp.code}",
            status_entity(etid, cat),
            stage_prefix(etid, cat),
            _owned(out, "type", sp.code),
        )
        plan_list(
            out, where, sp.stages, snap.statuses.get(where.entity_id, []), known, desired.lang
        )
        out.matches.append(
            Known("category", f"{sp.code}.default", str(cat), None, False, {"entityTypeId": etid})
        )
    type_ids = {code: int(t["id"]) for code, t in types.items()}
    plan_fields(out, desired.fields, snap.fields, known, type_ids, etids, desired.lang)
    plan_robots(out, desired, snap.robots, known, base_url, robot_specs, robot_user)
    key = CONNECTOR_KEY if snap.connector else None
    plan_events(out, desired, snap.events, base_url, key, known)
    plan_widgets(out, desired, snap.placements, base_url, etids, desired.lang, known, keep_widgets)
    return out
