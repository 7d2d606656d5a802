"""Plan one stage list (lead statuses, a pipeline, a smart process's stages). Pure.

Matching: the STATUS_ID the store remembers, then the wanted STATUS_ID, then the name
(either language). In a list the app owns (its own pipeline / smart process) names,
colours and order are brought to the spec and the portal's untouched seed stages are
removed. In a shared list (lead statuses, an adopted pipeline) only stages the app
created are renamed; new stages are slotted between their neighbours' SORT values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.installers.desired import Conflict
from app.installers.plan_model import CLEANUP, CONTENT, Plan, Step
from app.installers.portal_defaults import remove_unused, untouched
from app.installers.wire import is_seed_stage
from app.playbooks.schema import StageSpec
from app.store.schema_objects import Known


@dataclass(frozen=True)
class StageList:
    label: str  # readable, e.g. "pipeline metal.deal"
    entity_id: str  # crm.status ENTITY_ID
    prefix: str  # "C3:" / "DT1030_5:" / ""
    owned: bool  # the app created the container


def _sem(row: dict) -> str:
    return row.get("SEMANTICS") or ""


def _match(s: StageSpec, rows: list[dict], used: set[str], known: Known | None, prefix: str):
    by_id = {r["STATUS_ID"]: r for r in rows if r["STATUS_ID"] not in used}
    if known and known.real_name in by_id:
        return by_id[known.real_name], "known"
    if prefix + s.status_id in by_id:
        return by_id[prefix + s.status_id], "id"
    for r in rows:
        if r["STATUS_ID"] not in used and s.name.matches(r.get("NAME")):
            return r, "name"
    return None, ""


def _gap_sorts(count: int, lo: int, hi: int) -> list[int] | None:
    step = (hi - lo) / (count + 1)
    if step < 1:
        return None
    return [int(lo + step * (i + 1)) for i in range(count)]


def plan_list(
    plan: Plan,
    where: StageList,
    stages: tuple[StageSpec, ...],
    rows: list[dict],
    known: dict[tuple[str, str], Known],
    lang: str,
    aliases: dict[str, str] | None = None,
    occupied: set[str] | None = None,
) -> None:
    """Append this list's steps/matches/conflicts to ``plan``.

    ``occupied`` (STATUS_IDs holding records; None = not read) enables the fresh-portal
    path: a shared list that is still the portal's untouched defaults is brought to the
    playbook like an owned one, and its unused defaults are removed when empty."""
    pristine = not where.owned and occupied is not None and untouched(where.entity_id, rows)
    used: set[str] = set()
    matched: dict[str, dict] = {}
    for s in stages:
        k = known.get(("stage", s.code))
        row, how = _match(s, rows, used, k, where.prefix)
        if row is None:
            continue
        if _sem(row) != s.semantics:
            plan.conflicts.append(
                Conflict(
                    f"stage {s.code}",
                    f"{where.label} has «{row.get('NAME')}» ({row['STATUS_ID']}) with semantics "
                    f"'{_sem(row) or 'in progress'}', the playbook needs '{s.semantics or 'in progress'}'",
                    "rename or remove that stage in the portal, then re-run",
                )
            )
            used.add(row["STATUS_ID"])
            matched[s.code] = {}  # neither add nor record
            continue
        used.add(row["STATUS_ID"])
        matched[s.code] = row
        mine = bool(k and k.owned and k.real_name == row["STATUS_ID"]) or where.owned
        plan.matches.append(
            Known(
                "stage", s.code, str(row["ID"]), row["STATUS_ID"], mine, {"list": where.entity_id}
            )
        )
        if how == "name" and not k:
            plan.adopted.append(f"stage {s.code} → {row['STATUS_ID']} «{row.get('NAME')}»")
    if pristine:
        plan.notes.append(
            f"{where.label}: the portal's untouched default stages become the playbook's"
        )
        _plan_changes(plan, replace(where, owned=True), stages, rows, matched, known, lang, False)
        taken = {r["STATUS_ID"] for r in matched.values() if r}
        remove_unused(plan, where.label, rows, taken, occupied or set())
    else:
        _plan_changes(plan, where, stages, rows, matched, known, lang)
    for alias, kept in (aliases or {}).items():
        row = matched.get(kept)
        if row:
            plan.matches.append(
                Known(
                    "stage",
                    alias,
                    str(row["ID"]),
                    row["STATUS_ID"],
                    False,
                    {"list": where.entity_id, "alias_of": kept},
                )
            )


def _plan_changes(plan, where, stages, rows, matched, known, lang, seeds=True) -> None:
    adds: list[tuple[StageSpec, int]] = []
    updates: list[Step] = []
    if where.owned:
        ordered = [s for s in stages if s.semantics == ""] + [s for s in stages if s.semantics]
        wanted_sort = {s.code: 10 * (i + 1) for i, s in enumerate(ordered)}
        for s in stages:
            row = matched.get(s.code)
            if row == {}:
                continue
            if row is None:
                adds.append((s, wanted_sort[s.code]))
                continue
            fields = {}
            if row.get("NAME") != getattr(s.name, lang):
                fields["NAME"] = getattr(s.name, lang)
            if s.color and (row.get("COLOR") or "").upper() != s.color.upper():
                fields["COLOR"] = s.color
            if int(row.get("SORT") or 0) != wanted_sort[s.code]:
                fields["SORT"] = wanted_sort[s.code]
            _update(plan, updates, s, row, fields, where)
    else:
        adds = _shared_sorts(plan, where, stages, rows, matched, updates)
        for s in stages:
            row = matched.get(s.code)
            k = known.get(("stage", s.code))
            if row and k and k.owned and k.real_name == row["STATUS_ID"]:
                fields = {}
                if row.get("NAME") != getattr(s.name, lang):
                    fields["NAME"] = getattr(s.name, lang)
                _update(plan, updates, s, row, fields, where)
    plan.steps.extend(updates)
    for s, sort in adds:
        status_id = where.prefix + s.status_id
        plan.steps.append(
            Step(
                "stage",
                "add",
                s.code,
                f"{s.code} {status_id} «{getattr(s.name, lang)}» "
                f"{('[' + s.semantics + ']') if s.semantics else ''} in {where.label}",
                "crm.status.add",
                {
                    "fields": {
                        "ENTITY_ID": where.entity_id,
                        "STATUS_ID": status_id,
                        "NAME": getattr(s.name, lang),
                        "SORT": sort,
                        "COLOR": s.color,
                        "SEMANTICS": s.semantics,
                    }
                },
                CONTENT,
                Known("stage", s.code, None, status_id, True, {"list": where.entity_id}),
                "int",
            )
        )
    if where.owned and seeds:
        taken = {r["STATUS_ID"] for r in matched.values() if r}
        for r in rows:
            suffix = r["STATUS_ID"][len(where.prefix) :]
            if r["STATUS_ID"] not in taken and r.get("SYSTEM") != "Y" and is_seed_stage(suffix):
                plan.steps.append(
                    Step(
                        "stage",
                        "delete",
                        r["STATUS_ID"],
                        f"{r['STATUS_ID']} «{r.get('NAME')}» (portal's seed stage) from {where.label}",
                        "crm.status.delete",
                        {"id": r["ID"]},
                        CLEANUP,
                    )
                )
    changed = {u.code for u in updates}
    plan.unchanged += sum(1 for s in stages if matched.get(s.code) and s.code not in changed)


def _update(plan, updates, s, row, fields, where) -> None:
    if not fields:
        return
    updates.append(
        Step(
            "stage",
            "update",
            s.code,
            f"{row['STATUS_ID']} in {where.label}: "
            + ", ".join(f"{k} {row.get(k)!r} → {v!r}" for k, v in fields.items()),
            "crm.status.update",
            {"id": row["ID"], "fields": fields},
            CONTENT,
        )
    )


def _shared_sorts(plan, where, stages, rows, matched, updates) -> list[tuple[StageSpec, int]]:
    """SORT values for new stages in a list the app does not own. New in-progress stages go
    between their neighbours; when a gap is too small, every stage from the gap's upper
    end on is moved down together — SORT only, never a name — so order is kept."""
    shifts: list[tuple[int, int]] = []  # (original SORT from which, by how much)

    def cur(sort: int) -> int:
        return sort + sum(by for start, by in shifts if sort >= start)

    success = [int(r["SORT"]) for r in rows if _sem(r) == "S"]
    out: list[tuple[StageSpec, int]] = []
    lo, run = 0, []
    for s in [*[s for s in stages if s.semantics == ""], None]:
        row = matched.get(s.code) if s else None
        if s is not None and row is None:
            run.append(s)
            continue
        if s is not None and row == {}:
            continue
        edge = int(row["SORT"]) if row else (min(success) if success else None)
        if run:
            hi = cur(edge) if edge is not None else lo + 10 * (len(run) + 1)
            if _gap_sorts(len(run), lo, hi) is None and edge is not None:
                shifts.append((edge, 10 * (len(run) + 1) - (hi - lo)))
                hi = cur(edge)
            out.extend(zip(run, _gap_sorts(len(run), lo, hi) or [], strict=True))
            run = []
        if edge is not None and row:
            lo = max(lo, cur(edge))
    top = max([cur(int(r["SORT"])) for r in rows] + [sort for _, sort in out] + [0])
    for s in stages:
        if s.semantics and matched.get(s.code) is None:
            top += 10
            out.append((s, top))
    for r in rows:
        new = cur(int(r["SORT"]))
        if new != int(r["SORT"]):
            updates.append(
                Step(
                    "stage",
                    "update",
                    r["STATUS_ID"],
                    f"{r['STATUS_ID']} in {where.label}: SORT {r['SORT']} → {new} (make room)",
                    "crm.status.update",
                    {"id": r["ID"], "fields": {"SORT": new}},
                    CONTENT,
                )
            )
    return out
