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

Concurrency: a new journal claims its Objects (``object_merge_claims``) in the transaction
that creates it, so two merges that share an Object cannot both be planned — the second is
refused (state ``refused``, with the other journal named) instead of deleting Objects the
first is keeping; the claims go when the journal is applied (a failed journal keeps them
until it is resumed). Applying a journal takes a lease (state ``running`` set atomically
from ``planned``/``failed``, or from a ``running`` not saved for :data:`LEASE`), so a
double-clicked merge or a retried job never sends the same steps from two workers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError

from app.domain.merge import MergeError, MergePlan, ObjectRecord, plan_merge
from app.objects.gather import load_objects
from app.objects.keys import OBJECT
from app.objects.steps import APPLIED, PLANNED, apply_step, plain, steps_of
from app.portal.errors import PortalError
from app.store import audit, mirror, objects_index
from app.store.base import utcnow
from app.store.objects_index import ClaimTaken, ObjectMerge

RUNNING, FAILED, REFUSED = "running", "failed", "refused"
# a running journal not saved for this long belongs to a worker that died: take it over
# (a step is one REST call; even a throttled portal answers within a few minutes)
LEASE = timedelta(minutes=10)


class MergeBusy(MergeError):
    """Another unfinished merge holds one of the Objects (Russian message)."""


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
    session_factory: Callable[[], Any],
    client: Any,
    naming: Any,
    request: MergeRequest,
    *,
    now: Callable[[], datetime] = utcnow,
) -> MergeOutcome:
    """Plan (or find) the journal of ``request`` and apply its remaining steps.

    Raises :class:`MergeError` for an invalid request, :class:`MergeBusy` when another
    unfinished merge holds one of the Objects, ``PortalError`` when a step fails (the
    journal is ``failed`` and the same request resumes it). While another worker holds the
    journal's lease the outcome is ``running`` and nothing is sent."""
    key = request.key()
    with session_factory() as session:
        row = _journal(session, key)
        if row is not None and row.state == APPLIED:
            return MergeOutcome(row.id, row.state, dict(row.plan), _steps(row), resumed=True)
        resumed = row is not None and row.state != REFUSED
        journal_id = row.id if resumed else None
    if journal_id is None:
        plan, main = _plan(client, naming, request)  # portal reads: outside any transaction
        journal_id = _open(session_factory, request, key, plan, steps_of(plan, naming, main))
    steps = _lease(session_factory, journal_id, now())
    if steps is None:
        with session_factory() as session:
            row = session.get(ObjectMerge, journal_id)
            return MergeOutcome(row.id, row.state, dict(row.plan), _steps(row), resumed=True)
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


def _journal(session: Any, key: str) -> ObjectMerge | None:
    return session.query(ObjectMerge).filter_by(key=key).one_or_none()


def _steps(row: ObjectMerge) -> list[dict[str, Any]]:
    return [dict(s) for s in row.steps]


def _open(session_factory, request: MergeRequest, key: str, plan: MergePlan, steps) -> int:
    """Create (or re-plan a refused) journal and claim its Objects in one transaction;
    the journal id. When the same request was opened concurrently, that journal's id."""
    objects = (request.main_id, *request.duplicate_ids)
    with session_factory() as session:
        row = _journal(session, key)
        if row is None:
            row = ObjectMerge(member_id=request.member_id, key=key, main_id=request.main_id)
            session.add(row)
        row.request = {
            "duplicates": list(request.duplicate_ids),
            "choices": dict(request.choices),
            "requested_by": request.requested_by,
        }
        row.plan, row.steps, row.state, row.error = plan_dict(plan), steps, PLANNED, None
        try:
            session.flush()  # the key is unique: a concurrent twin fails here
            objects_index.claim(session, request.member_id, row.id, objects)
            session.commit()
            return row.id
        except (IntegrityError, ClaimTaken):
            session.rollback()
    with session_factory() as session:  # a new transaction sees what the winner committed
        row = _journal(session, key)
        if row is not None and row.state != REFUSED:
            return row.id  # the same request, opened by a twin: share its journal
        holders = objects_index.claim_holders(
            session, request.member_id, objects, other_than=row.id if row else None
        )
        message = _busy_message(holders)
        if row is None:
            row = ObjectMerge(
                member_id=request.member_id,
                key=key,
                main_id=request.main_id,
                request={"duplicates": list(request.duplicate_ids)},
                plan=plan_dict(plan),
                steps=steps,
            )
            session.add(row)
        row.state, row.error = REFUSED, message
        try:
            session.commit()  # the journal says why, for whoever polls it
        except IntegrityError:
            session.rollback()
    raise MergeBusy(message)


def _busy_message(holders: Mapping[int, ObjectMerge]) -> str:
    if not holders:
        return "Объекты заняты другим объединением, которое сейчас создаётся; повторите позже"
    parts = []
    for object_id, merge in sorted(holders.items()):
        how = "прервано — запустите его снова" if merge.state == FAILED else "выполняется"
        parts.append(f"объект #{object_id} — в объединении №{merge.id} ({how})")
    return "Нельзя объединить: " + "; ".join(parts)


def _lease(session_factory, journal_id: int, now: datetime) -> list[dict[str, Any]] | None:
    """Take the right to apply the journal (see module doc); its steps, or None when
    another worker holds it."""
    with session_factory() as session:
        taken = session.execute(
            update(ObjectMerge)
            .where(
                ObjectMerge.id == journal_id,
                or_(
                    ObjectMerge.state.in_((PLANNED, FAILED)),
                    and_(ObjectMerge.state == RUNNING, ObjectMerge.updated_at < now - LEASE),
                ),
            )
            .values(state=RUNNING, updated_at=now)
        ).rowcount
        session.commit()
        if taken != 1:
            return None
        return _steps(session.get(ObjectMerge, journal_id))


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
        objects_index.release(session, journal_id)
        audit.record(
            session,
            member_id=request.member_id,
            entity=OBJECT,
            record_id=request.main_id,
            rule="objects.merge",
            cause=f"merge:{row.key}"
            + (f" by user {request.requested_by}" if request.requested_by else ""),
            action_type="MergeObjects",
            action={"duplicates": list(request.duplicate_ids), "choices": dict(request.choices)},
            status="done",
            key=f"merge:{row.key}",
            result={"journal": journal_id, "steps": len(steps)},
        )
        session.commit()
        return MergeOutcome(journal_id, APPLIED, dict(row.plan), [dict(s) for s in steps], resumed)
