"""Dry run: what a playbook would have done over the last N days of the mirror. Writes nothing.

The mirror keeps each record's current snapshot and its stage history
(``app.store.mirror``). From them the history of the window is rebuilt, oldest first:

* a record created in the window → the "new record" diff (``created`` + the ``stage_entered``
  of its first stage), with the record as it is now but in its first stage;
* each later stage stay that began in the window → the stage move from the previous stay.

Each step goes through the same pure pieces a real job uses — ``changes.diff`` and
``engine.decide`` with the playbook's dispatch table, the portal's naming and the
playbook's effective settings, ``now`` = when the step happened — and the actions are
counted, never applied. Related records come from the mirror (company, contacts) and the
store's providers (``app.sync.gather``); what only the portal knows at event time (the
responsible's profile, open activities) is absent, so a rule that needs it may decide
differently: the report says the counts are an estimate of that kind.

Field edits other than stage moves are not in the mirror's history: rules on a field change
are not replayed. Nor are the echoes of the playbook's own writes that come back as new
records (an e-mail it sends, filed by the portal as an activity): the preview covers the
records people made and moved.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.rules import actions as act
from app.rules.changes import diff
from app.rules.dispatch import DispatchTable, table_for
from app.rules.engine import decide, needed_related
from app.store import mirror

MAX_DAYS = 365
# what one page request replays at most: each change costs a few store reads and the rules'
# run, so a year of a big mirror would hold a web worker for minutes; the page then shows
# the latest changes only and says so (the CLI replays everything)
PAGE_MAX_STEPS = 3000


@dataclass(frozen=True)
class Step:
    """One historical moment of one record: ``before`` → ``after`` (raw snapshots) at ``at``.

    The snapshots are made on demand from the record as it is now (``current``, shared by
    the record's steps) and the stays it moved between (``(stage, entered_at)``; ``was`` is
    None when the record was created): a year of a big mirror then holds one copy of each
    changed record, not two per change."""

    at: datetime
    entity: str
    record_id: int
    current: Mapping[str, Any] = field(repr=False)
    was: tuple[Any, datetime | None] | None
    now: tuple[Any, datetime | None]

    @property
    def before(self) -> dict[str, Any] | None:
        return None if self.was is None else _at_stage(self.current, *self.was)

    @property
    def after(self) -> dict[str, Any]:
        return _at_stage(self.current, *self.now)


@dataclass
class Preview:
    """Counts of what the playbook would have done."""

    playbook: str
    days: int
    since: datetime
    steps: int = 0  # historical changes replayed
    records: int = 0  # distinct records they touched
    rules: Counter = field(default_factory=Counter)  # rule → times it acted
    actions: Counter = field(default_factory=Counter)  # rule → actions it returned
    action_types: Counter = field(default_factory=Counter)  # action type → how many
    messages: Counter = field(default_factory=Counter)  # channel → client messages
    moves: Counter = field(default_factory=Counter)  # target stage → records moved there
    moved_records: set = field(default_factory=set)  # (entity, id) moved by the playbook
    timers: Counter = field(default_factory=Counter)  # timer kind → started
    errors: Counter = field(default_factory=Counter)  # rule → times it raised
    truncated: bool = False  # only the latest ``max_steps`` changes were replayed
    covered_since: datetime | None = None  # the oldest change replayed (when truncated)

    def as_dict(self) -> dict[str, Any]:
        return {
            "playbook": self.playbook,
            "days": self.days,
            "since": self.since.isoformat(),
            "steps": self.steps,
            "records": self.records,
            "rules": dict(self.rules.most_common()),
            "actions": dict(self.actions.most_common()),
            "action_types": dict(self.action_types.most_common()),
            "messages": dict(self.messages.most_common()),
            "moves": dict(self.moves.most_common()),
            "moved_records": len(self.moved_records),
            "timers": dict(self.timers.most_common()),
            "errors": dict(self.errors.most_common()),
            "truncated": self.truncated,
            "covered_since": self.covered_since.isoformat() if self.covered_since else None,
        }


def history(session, member_id: str, entities: Iterable[str], since: datetime) -> list[Step]:
    """The mirror's history of ``entities`` from ``since`` on, oldest first (see module doc)."""
    steps: list[Step] = []
    for entity in sorted(set(entities)):
        stays_of = _stays(session, member_id, entity)
        for row in _streamed(session, member_id, entity):
            steps.extend(_record_steps(entity, row, stays_of.get(row.record_id, []), since))
    steps.sort(key=lambda s: (s.at, s.entity, s.record_id))
    return steps


def _streamed(session, member_id: str, entity: str):
    """``mirror.records`` read in batches: rows outside the window are dropped as they go
    (the identity map keeps unmodified rows only weakly), not held all at once."""
    from sqlalchemy import select

    q = (
        select(mirror.MirrorRecord)
        .where(
            mirror.MirrorRecord.member_id == member_id,
            mirror.MirrorRecord.entity == entity,
            mirror.MirrorRecord.deleted.is_(False),
        )
        .execution_options(yield_per=500)
    )
    return session.scalars(q)


def _stays(session, member_id: str, entity: str) -> dict[int, list]:
    from sqlalchemy import select

    q = (
        select(mirror.StageStay)
        .where(mirror.StageStay.member_id == member_id, mirror.StageStay.entity == entity)
        .order_by(mirror.StageStay.record_id, mirror.StageStay.entered_at, mirror.StageStay.id)
    )
    out: dict[int, list] = defaultdict(list)
    for stay in session.scalars(q):
        out[stay.record_id].append(stay)
    return out


def _record_steps(entity: str, row, stays: list, since: datetime) -> list[Step]:
    data = row.data or {}
    created = mirror.parse_time(data.get("createdTime"))
    first = (stays[0].stage, stays[0].entered_at) if stays else (data.get("stageId"), None)
    moves = [(stay.stage, _aware(stay.entered_at)) for stay in stays[1:]]
    born_here = created is not None and created >= since
    if not born_here and not any(at >= since for _, at in moves):
        return []  # nothing of this record in the window: no copy of it kept
    current = dict(data)
    out: list[Step] = []
    if born_here:
        out.append(Step(created, entity, row.record_id, current, None, first))
    previous = first
    for move in moves:
        if move[1] >= since:
            out.append(Step(move[1], entity, row.record_id, current, previous, move))
        previous = move
    return out


def _at_stage(current: Mapping[str, Any], stage: Any, at: datetime | None) -> dict[str, Any]:
    """The record as it is now, put back into ``stage`` (moved at ``at``)."""
    out = dict(current)
    if stage is not None and "stageId" in current:
        out["stageId"] = stage
        if at is not None:
            out["movedTime"] = _aware(at).isoformat()
    return out


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def preview(
    session_factory: Callable[[], Any],
    member_id: str,
    playbook: str,
    days: int,
    *,
    naming: Any,
    settings: Mapping[str, Mapping[str, Any]],
    installed: Iterable[str] = (),
    now: datetime | None = None,
    max_steps: int | None = None,
) -> Preview:
    """Replay the last ``days`` of the mirror of ``member_id`` through ``playbook``'s rules.

    ``installed``: the playbooks already on the portal (record ownership chooses among them
    and ``playbook``); ``settings`` by playbook; ``max_steps``: replay only that many of the
    latest changes (the report says so). Reads only; returns the counts."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1..{MAX_DAYS}")
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    others = table_for(set(installed) | {playbook})
    table = DispatchTable(
        tuple(r for r in others.rules if r.playbook == playbook), others.playbooks
    )
    report = Preview(playbook, days, since)
    with session_factory() as session:
        steps = history(session, member_id, table.entities(), since)
    if max_steps is not None and len(steps) > max_steps:
        steps = steps[-max_steps:]
        report.truncated, report.covered_since = True, steps[0].at
    report.steps = len(steps)
    report.records = len({(s.entity, s.record_id) for s in steps})
    for step in steps:
        _replay(report, table, session_factory, member_id, step, naming, settings)
    return report


def _replay(report, table, session_factory, member_id, step: Step, naming, settings) -> None:
    from app.sync.gather import gather

    after = step.after  # made once: the snapshots are built on demand
    changes = diff(member_id, step.entity, step.record_id, step.before, after, naming)
    if not changes:
        return
    needs = needed_related(table, step.entity)
    related = _mirror_related(session_factory, member_id, after, needs)
    related.update(
        gather(
            session_factory,
            member_id,
            naming,
            step.entity,
            step.record_id,
            after,
            related,
            needs,
        )
    )
    decisions = decide(
        table,
        changes,
        record=changes[0].after,
        related=related,
        settings=settings,
        schema=naming,
        now=step.at,
    )
    for d in decisions:
        rule = d.rule.qualified_name()
        if d.error:
            report.errors[rule] += 1
            continue
        if not d.actions:
            continue
        report.rules[rule] += 1
        report.actions[rule] += len(d.actions)
        for a in d.actions:
            _count(report, a)


def _count(report: Preview, a: act.Action) -> None:
    report.action_types[a.action_type] += 1
    if isinstance(a, act.MessageClient):
        report.messages[a.channel] += 1
    elif isinstance(a, act.MoveStage):
        report.moves[a.stage] += 1
        report.moved_records.add((a.entity, str(a.record_id)))
    elif isinstance(a, act.StartTimer):
        report.timers[a.kind] += 1


def _mirror_related(session_factory, member_id: str, raw, needs) -> dict[str, Any]:
    """The related records the portal fetch would add, as the mirror holds them."""
    out: dict[str, Any] = {}
    with session_factory() as session:
        for need in needs:
            if need == "company":
                cid = raw.get("companyId")
                out[need] = mirror.get(session, member_id, "company", int(cid)) if cid else None
            elif need == "contacts":
                ids = raw.get("contactIds") or []
                found = [mirror.get(session, member_id, "contact", int(i)) for i in ids]
                out[need] = [c for c in found if c is not None]
    return out


def preview_portal(
    services: Any, member_id: str, playbook: str, days: int, max_steps: int | None = None
) -> Preview:
    """:func:`preview` with the installation's naming, installed playbooks and settings."""
    from app.installers.mapping import resolve
    from app.playbooks.settings import effective
    from app.rules.naming import naming_for
    from app.store import installations

    with services.session() as session:
        row = installations.get(session, member_id)
        if row is None:
            raise installations.InstallationNotFound(member_id)
        installed = tuple(row.playbooks or ())
        settings = {pb: effective(session, member_id, pb) for pb in {*installed, playbook}}
        naming = naming_for(resolve(session, member_id))
    return preview(
        services.session,
        member_id,
        playbook,
        days,
        naming=naming,
        settings=settings,
        installed=installed,
        max_steps=max_steps,
    )
