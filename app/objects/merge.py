"""Merge duplicate Objects: plan from the portal's current state, then a resumable journal.

    request = MergeRequest(member_id, main_id=5, duplicate_ids=(7, 9), choices={"UF_CRM_OBJ_SITE": 7})
    preview(client, naming, request)                # MergePlan: what would change (no writes)
    run_merge(session_factory, client, naming, request)   # → MergeOutcome

The plan (``app.domain.merge.plan_merge``) fills the main Object's empty fields from the
duplicates (a chosen value wins where both are set), moves the duplicates' lead/deal links
to the main Object and deletes the duplicates. It is written to the journal
(``object_merges``) as numbered steps before anything is sent; each step is marked
``applied`` as soon as the portal accepted it. Running the same request again resumes at
the first step not applied (every step is idempotent: an update writes the same values, a
delete of an Object already gone counts as done), and a finished merge is not repeated.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.domain.merge import MergeError, MergePlan, ObjectRecord, plan_merge
from app.objects.gather import load_objects
from app.objects.keys import OBJECT
from app.objects.steps import APPLIED, PLANNED, apply_step, plain, steps_of
from app.portal.errors import PortalError
from app.store import audit, mirror, objects_index
from app.store.objects_index import ObjectMerge

RUNNING, FAILED = "running", "failed"


@dataclass(frozen=True)
class MergeRequest:
    member_id: str
    main_id: int
    duplicate_ids: tuple[int, ...]
    choices: Mapping[str, int] = field(default_factory=dict)
    requested_by: int | None = None

    def key(self) -> str:
        """Same Objects and choices → same key (whoever asks, however ordered)."""
        body = [
            self.member_id,
            self.main_id,
            sorted(self.duplicate_ids),
            sorted(self.choices.items()),
        ]
        return hashlib.sha256(json.dumps(body, default=str).encode()).hexdigest()[:64]


@dataclass(frozen=True)
class MergeOutcome:
    journal_id: int
    state: str
    plan: dict[str, Any]
    steps: list[dict[str, Any]]
    resumed: bool = False


def preview(client: Any, naming: Any, request: MergeRequest) -> MergePlan:
    """The plan against the portal's current state. MergeError for an invalid request."""
    return _plan(client, naming, request)[0]


def _plan(client: Any, naming: Any, request: MergeRequest) -> tuple[MergePlan, ObjectRecord]:
    if request.main_id in request.duplicate_ids:
        raise MergeError(f"Основной объект #{request.main_id} не может быть своим дубликатом")
    objects = load_objects(client, naming, (request.main_id, *request.duplicate_ids))
    main = objects[request.main_id]
    dups = [objects[i] for i in request.duplicate_ids]
    return plan_merge(main, dups, dict(request.choices)), main


def plan_dict(plan: MergePlan) -> dict[str, Any]:
    """A JSON-able view of the plan (journal, HTTP answers, CLI)."""
    return {
        "main_id": plan.main_id,
        "updates": {k: plain(v) for k, v in plan.updates.items()},
        "sources": dict(plan.sources),
        "moves": [vars(m) for m in plan.moves],
        "deletes": list(plan.deletes),
        "conflicts": [
            {
                "field": c.field,
                "values": [[i, plain(v)] for i, v in c.values],
                "kept_from": c.kept_from,
            }
            for c in plan.conflicts
        ],
    }


def run_merge(
    session_factory: Callable[[], Any], client: Any, naming: Any, request: MergeRequest
) -> MergeOutcome:
    """Plan (or find) the journal of ``request`` and apply its remaining steps."""
    key = request.key()
    with session_factory() as session:
        row = session.query(ObjectMerge).filter_by(key=key).one_or_none()
        resumed = row is not None
        if row is None:
            plan, main = _plan(client, naming, request)
            row = ObjectMerge(
                member_id=request.member_id,
                key=key,
                main_id=request.main_id,
                request={
                    "duplicates": list(request.duplicate_ids),
                    "choices": dict(request.choices),
                    "requested_by": request.requested_by,
                },
                plan=plan_dict(plan),
                steps=steps_of(plan, naming, main),
                state=PLANNED,
            )
            session.add(row)
            session.commit()
        journal_id, steps = row.id, [dict(s) for s in row.steps]
        if row.state == APPLIED:
            return MergeOutcome(row.id, row.state, dict(row.plan), steps, resumed=True)
    for step in steps:
        if step["state"] == APPLIED:
            continue
        try:
            step["result"] = apply_step(client, naming, step)
        except PortalError as exc:
            _save(session_factory, journal_id, steps, FAILED, f"шаг {step['n']}: {exc}")
            raise
        step["state"] = APPLIED
        _save(session_factory, journal_id, steps, RUNNING, None, step, request.member_id)
    return _finish(session_factory, journal_id, steps, request, resumed)


def _save(session_factory, journal_id, steps, state, error, step=None, member_id=None) -> None:
    with session_factory() as session:
        row = session.get(ObjectMerge, journal_id)
        row.steps, row.state, row.error = [dict(s) for s in steps], state, error
        if step is not None and step["kind"] == "delete":
            # the Object is gone: drop it from the mirror (and so from the duplicate index)
            mirror.mark_deleted(session, member_id, OBJECT, int(step["params"]["id"]))
            objects_index.remove(session, member_id, int(step["params"]["id"]))
        session.commit()


def _finish(
    session_factory, journal_id, steps, request: MergeRequest, resumed: bool
) -> MergeOutcome:
    with session_factory() as session:
        row = session.get(ObjectMerge, journal_id)
        row.steps, row.state, row.error = [dict(s) for s in steps], APPLIED, None
        audit.record(
            session,
            member_id=request.member_id,
            entity=OBJECT,
            record_id=request.main_id,
            rule="objects.merge",
            cause=f"merge:{row.key}",
            action_type="MergeObjects",
            action={"duplicates": list(request.duplicate_ids), "choices": dict(request.choices)},
            status="done",
            key=f"merge:{row.key}",
            result={"journal": journal_id, "steps": len(steps)},
        )
        session.commit()
        return MergeOutcome(journal_id, APPLIED, dict(row.plan), [dict(s) for s in steps], resumed)
