"""``apply``: read → plan → write in batches, recording in the store what is ours.

Rounds: containers first (smart processes, pipelines), then — with their ids known from a
fresh read — everything inside them plus robots, events and widgets, then a last read that
records what the portal assigned (enum option ids) and proves the plan is empty. Every
successful write is recorded before a failure is raised, so the next run continues from
there; objects created but not recorded (a crash mid-batch) are found again by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from app.installers.current import read
from app.installers.desired import Desired
from app.installers.plan import plan as make_plan
from app.installers.plan_model import CONTAINERS, Plan, Step
from app.installers.portal_io import already_there, run_batch
from app.portal.errors import PortalError
from app.store import schema_objects
from app.store.schema_objects import Known

MAX_ROUNDS = 4
Progress = Callable[[int, int, str], None]


class ApplyFailed(RuntimeError):
    """Some writes failed; what succeeded is recorded. ``failures``: (step text, error)."""

    def __init__(self, failures: list[tuple[str, PortalError]]) -> None:
        self.failures = failures
        lines = "; ".join(f"{text}: {err}" for text, err in failures[:5])
        super().__init__(f"{len(failures)} installer write(s) failed: {lines}")


@dataclass
class ApplyReport:
    written: dict[str, int] = field(default_factory=dict)  # "add field" → n
    requests: int = 0
    rounds: int = 0
    conflicts: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    final_plan: Plan | None = None


def _extract(step: Step, result: Any) -> Known | None:
    if step.record is None:
        return None
    rec = step.record
    if step.extract == "type":
        t = result["type"]
        return replace(rec, real_id=str(t["id"]), meta={"entityTypeId": int(t["entityTypeId"])})
    if step.extract == "category":
        return replace(rec, real_id=str(result["category"]["id"]))
    if step.extract == "field":
        return replace(rec, real_id=str(result["field"]["id"]))
    if step.extract == "int":
        return replace(rec, real_id=str(result))
    return rec


def execute(client, steps: list[Step]) -> tuple[list[Known], list[tuple[Step, PortalError]], int]:
    """Run ``steps`` in order (batched); returns (records, failures, requests)."""
    cmd = {f"s{i}": (s.method, s.params) for i, s in enumerate(steps)}
    out = run_batch(client, cmd)
    records: list[Known] = []
    failures: list[tuple[Step, PortalError]] = []
    retry: dict[str, tuple[str, dict]] = {}
    for i, step in enumerate(steps):
        key = f"s{i}"
        if key in out.results:
            # a delete's record is forgotten by the caller (apply), not stored again
            rec = _extract(step, out.results[key]) if step.op != "delete" else None
            records.extend([rec] if rec else [])
        elif key in out.errors and already_there(out.errors[key]) and step.on_exists:
            if step.on_exists[0]:
                retry[key] = step.on_exists
            elif step.record:
                records.append(step.record)
        elif key in out.errors:
            failures.append((step, out.errors[key]))
    requests = out.requests
    if retry:
        again = run_batch(client, retry)
        requests += again.requests
        for key in retry:
            step = steps[int(key[1:])]
            if key in again.results and step.record:
                records.append(step.record)
            elif key in again.errors:
                failures.append((step, again.errors[key]))
    return records, failures, requests


def apply(
    session,
    client,
    member_id: str,
    desired: Desired,
    base_url: str,
    robot_specs: dict,
    progress: Progress | None = None,
    robot_user: int = 1,
    keep_widgets=None,
) -> ApplyReport:
    """Converge the portal to ``desired``; raises :class:`ApplyFailed` after recording.
    ``keep_widgets``: see :func:`app.installers.plan.plan`."""
    report = ApplyReport()
    done = 0
    for _ in range(MAX_ROUNDS):
        known = schema_objects.load(session, member_id)
        snap = read(client, desired, known)
        report.requests += snap.requests
        current = make_plan(desired, snap, known, base_url, robot_specs, robot_user, keep_widgets)
        report.rounds += 1
        if report.rounds == 1:
            report.adopted = list(current.adopted)
        schema_objects.record(session, member_id, current.matches)
        session.commit()
        report.final_plan = current
        ready = current.ready_steps()
        containers = [s for s in ready if s.phase == CONTAINERS]
        todo = containers or ready
        if not todo:
            break
        total = done + len(current.steps)
        # write-ahead intents: an object created by a batch whose answer is lost is still
        # recognised as ours (by name) on the next run
        intents = [s.record for s in todo if s.op == "add" and s.record and not s.record.real_id]
        schema_objects.record(session, member_id, intents)
        session.commit()
        records, failures, requests = execute(client, todo)
        report.requests += requests
        schema_objects.record(session, member_id, records)
        failed = {id(step) for step, _ in failures}
        gone = [s.record for s in todo if s.op == "delete" and s.record and id(s) not in failed]
        schema_objects.forget(session, member_id, [(k.kind, k.code) for k in gone])
        session.commit()
        for s in (s for s in todo if id(s) not in failed):
            label = f"{s.op} {s.kind}"
            report.written[label] = report.written.get(label, 0) + 1
        done += len(todo)
        if progress:
            progress(done, max(total, done), f"{len(todo)} write(s): {todo[-1].text}")
        if failures:
            raise ApplyFailed([(s.text, e) for s, e in failures])
    final = report.final_plan
    if final is not None:
        report.conflicts = list(final.conflicts)
        report.notes = list(final.notes)
    return report
