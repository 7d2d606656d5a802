"""Process one record: fetch → diff with the mirror → rules → apply → store the snapshot.

This is the body of the ``process_change`` job. Order matters for exactly-once:

1. The pending marker is cleared first, so an event arriving while we work enqueues a new
   job (which will read the newer state).
2. A per-record Redis lock serialises jobs of the same record (two workers would otherwise
   diff the same old snapshot; the claims would still stop double effects, but the work
   would be done twice).
3. The snapshot is stored *after* the actions were applied: a crash in between leaves the
   old snapshot, the retry derives the same changes and causes, and the claims turn every
   already-done action into a no-op.
4. Our own writes were put into the mirror by ``apply`` with the portal's newer
   ``updatedTime``; the fetched (older) snapshot does not overwrite them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from app.rules.actions import MoveStage, UpdateFields, UpdateTask
from app.rules.apply import DONE, ActionGroup, apply_groups, created_records, event_entity
from app.rules.changes import diff
from app.rules.engine import decide, needed_related
from app.rules.model import TASK_ENTITY, TASK_TAG
from app.rules.naming import resolve_entity
from app.store import audit, inbox, mirror
from app.sync import dirty
from app.sync.context import PortalContext
from app.sync.echoes import EchoAwareClient
from app.sync.fetch import Fetched, fetch_record
from app.sync.gather import gather

log = logging.getLogger(__name__)

LOCK_TIMEOUT = 120
BASELINE_GRACE = timedelta(minutes=5)
LOCK_WAIT = 30
JOB = "change"


@dataclass
class ProcessResult:
    changes: list[str] = field(default_factory=list)  # change kinds found
    rules: list[str] = field(default_factory=list)  # rules that ran
    actions_done: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)


class RecordBusy(Exception):
    """Another job holds this record's lock for too long; RQ retries later."""

    # app.queues.give_up_unless_retryable: worth retrying (the lock of a killed worker
    # expires after LOCK_TIMEOUT); without this the job failed for good at once
    retryable = True


def process_record(ctx: PortalContext, entity: str, record_id: int) -> ProcessResult:
    """Run the rules on whatever changed on ``entity`` ``record_id`` since the mirror saw it."""
    member_id = ctx.member_id
    inbox.clear_pending(ctx.redis, inbox.pending_key(member_id, JOB, entity, record_id))
    lock = ctx.redis.lock(f"b24:lock:{member_id}:{entity}:{record_id}", timeout=LOCK_TIMEOUT)
    if not lock.acquire(blocking=True, blocking_timeout=LOCK_WAIT):
        raise RecordBusy(f"{entity} {record_id} of {member_id}")
    try:
        return _process_locked(ctx, entity, int(record_id))
    finally:
        try:
            lock.release()
        except Exception:  # expired lock: the work is idempotent, nothing to undo
            log.warning("lock for %s %s expired before release", entity, record_id)


def _process_locked(ctx: PortalContext, entity: str, record_id: int) -> ProcessResult:
    early = without_read(ctx, entity, record_id)
    if early is not None:
        return early
    needs = needed_related(ctx.table, entity)
    fetched = fetch_record(ctx.client, ctx.naming, entity, record_id, needs)
    plan = plan_record(ctx, entity, record_id, fetched)
    if plan.groups is None:
        return plan.result
    # every rule's actions on this record go out in one batch; the writer notes the echoes
    # of its updates so the inbox takes them without a read (app.sync.echoes)
    writer = EchoAwareClient(ctx.client, ctx.redis, ctx.member_id)
    reports = apply_groups(
        ctx.session_factory,
        writer,
        ctx.naming,
        ctx.member_id,
        plan.groups,
        record=(entity, record_id),
    )
    dirty.remember_created(ctx.redis, ctx.member_id, created_records(reports, ctx.naming))
    mirror_written(ctx, writer.written)
    finish_record(ctx, plan, reports)
    return plan.result


@dataclass
class RecordPlan:
    """One record read and decided on: what its rules want written (``groups`` None when
    nothing is left to do: the result is final and the snapshot stored)."""

    entity: str
    record_id: int
    result: ProcessResult
    fetched: Fetched | None = None
    groups: list[ActionGroup] | None = None


def without_read(ctx: PortalContext, entity: str, record_id: int) -> ProcessResult | None:
    """The result for a record that needs no read (the ADD echo of a record we created, a
    task that is not ours), else None."""
    member_id = ctx.member_id
    result = ProcessResult()
    if dirty.consume_created(ctx.redis, member_id, event_entity(ctx.naming, entity), record_id):
        with ctx.session_factory() as session:
            known = mirror.get(session, member_id, entity, record_id)
        if known is not None:
            # the echo of our own creation: the mirror holds the record as the portal
            # returned it. A person's edit coalesced into this same pass (seconds after we
            # created the record) waits for its next event or the reconciliation.
            result.changes = ["ours"]
            return result
    if entity == TASK_ENTITY:
        with ctx.session_factory() as session:
            known = mirror.get(session, member_id, entity, record_id)
        if known is None:
            # every task of the portal fires ONTASK*; the app mirrors only the tasks it
            # created (when the CreateTask is applied), so a task unknown here is not ours
            # — or ours with its write-back still in flight, which adds it then
            result.changes = ["foreign"]
            return result
    return None


def plan_record(ctx: PortalContext, entity: str, record_id: int, fetched: Fetched) -> RecordPlan:
    """Diff the fetched record with the mirror and let the rules decide (no portal call)."""
    member_id = ctx.member_id
    table = ctx.table
    plan = RecordPlan(entity, record_id, ProcessResult(), fetched)
    result = plan.result
    with ctx.session_factory() as session:
        before = mirror.get(session, member_id, entity, record_id)
    if entity == TASK_ENTITY and before is not None and fetched.record is not None:
        # the playbook's tag lives only in our snapshot: carry it over to the fresh read
        fetched = Fetched({**fetched.record, TASK_TAG: before.get(TASK_TAG)}, fetched.related)
        plan.fetched = fetched
    if before is not None and before.get(mirror.OURS) and fetched.record is not None:
        _store(ctx, entity, record_id, fetched.record)  # the echo of our own creation
        result.changes = ["ours"]
        return plan
    if before is None and fetched.record is not None and _predates(fetched.record, ctx.baseline):
        # first sight of a record that existed before the app: remember it, fire nothing
        # (its first update event must not look like a "created")
        _store(ctx, entity, record_id, fetched.record)
        result.changes = ["baseline"]
        return plan
    changes = diff(member_id, entity, record_id, before, fetched.record, ctx.naming)
    result.changes = [c.kind for c in changes]
    if not changes:
        if fetched.record is not None and before is None:
            _store(ctx, entity, record_id, fetched.record)
        return plan

    now = ctx.now()
    snapshot = changes[0].after if fetched.record is not None else None
    related = {
        **fetched.related,
        **gather(
            ctx.session_factory,
            member_id,
            ctx.naming,
            entity,
            record_id,
            fetched.record,
            fetched.related,
            needed_related(table, entity),
        ),
    }
    decisions = decide(
        table,
        changes,
        record=snapshot,
        related=related,
        settings=ctx.settings,
        schema=ctx.naming,
        now=now,
    )
    plan.groups = []
    for d in decisions:
        rule = d.rule.qualified_name()
        result.rules.append(rule)
        if d.error:
            result.errors.append(f"{rule}: {d.error}")
            _audit_rule_error(ctx, entity, record_id, rule, d.change.cause, d.error)
        elif d.actions:
            plan.groups.append(ActionGroup(rule, d.change.cause, d.actions))
    return plan


def finish_record(ctx: PortalContext, plan: RecordPlan, reports) -> None:
    """Tally the record's reports and store its snapshot (after the actions: see module doc)."""
    result = plan.result
    for group, report in zip(plan.groups or (), reports, strict=True):
        result.actions_done += len(report.done)
        result.duplicates += len(report.duplicates)
        result.errors.extend(f"{group.rule}: {o.error}" for o in report.failed)
    if not _wrote_itself(reports, plan.entity, plan.record_id):
        _store(ctx, plan.entity, plan.record_id, plan.fetched.record)
    # else: apply stored the record as our write returned it — newer than what we fetched,
    # though both may carry the same whole-second updatedTime (put_if_newer cannot tell)


def mirror_written(ctx: PortalContext, written: dict[tuple[str, int], dict]) -> None:
    """Every record an update of this pass answered, as the portal holds it now (a link
    written into a record is not an action's primary result, so ``apply`` did not store
    it): the echoes the inbox swallows must leave nothing unmirrored."""
    if not written:
        return
    with ctx.session_factory() as session:
        for (event_name, rid), item in written.items():
            entity = resolve_entity(ctx.naming, event_name)
            mirror.put_if_newer(session, ctx.member_id, entity, rid, item)
        session.commit()


def _wrote_itself(reports, entity: str, record_id: int) -> bool:
    """True when an update of this very record was applied in this pass (a task renewed by
    the rule its completion ran counts: its write-back is newer than the fetched task)."""
    for report in reports:
        for o in report.outcomes:
            action = o.action
            if o.status != DONE:
                continue
            if (
                isinstance(action, UpdateFields | MoveStage)
                and action.entity == entity
                and action.record_id == record_id
            ):
                return True
            if isinstance(action, UpdateTask) and entity == TASK_ENTITY:
                if action.task_id == record_id:
                    return True
    return False


def _predates(record: dict, baseline) -> bool:
    """True when the portal created ``record`` well before ``baseline`` (aware UTC; None =
    never). The grace covers the portal's whole-second timestamps and clock skew: a record
    made minutes before the install still counts as new, one from last year does not."""
    if baseline is None:
        return False
    created = mirror.parse_time(record.get("createdTime"))
    return created is not None and created < baseline - BASELINE_GRACE


def _store(ctx: PortalContext, entity: str, record_id: int, record: dict | None) -> None:
    with ctx.session_factory() as session:
        if record is None:
            mirror.mark_deleted(session, ctx.member_id, entity, record_id)
        else:
            mirror.put_if_newer(session, ctx.member_id, entity, record_id, record)
        session.commit()


def _audit_rule_error(ctx, entity, record_id, rule, cause, error) -> None:
    log.error("rule %s failed on %s %s: %s", rule, entity, record_id, error)
    with ctx.session_factory() as session:
        audit.record(
            session,
            member_id=ctx.member_id,
            entity=entity,
            record_id=record_id,
            rule=rule,
            cause=cause,
            action_type="rule",
            action=None,
            status="error",
            error=error,
        )
        session.commit()
