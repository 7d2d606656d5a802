"""Apply a rule's actions to the portal: one batch, each effect at most once, audited.

``apply_actions(services, member_id, actions, *, cause, rule, record=None) -> ApplyReport``

1. Each action's idempotency key (:func:`action_key`: member, rule, record, cause, slot) is
   claimed in the store *before* anything is sent (``app.store.audit``); a key already
   ``done`` is a duplicate and skipped — a replay or a retried job never repeats a
   notification, task or created record.
2. The claimed portal actions go out as one ``batch`` (``app.rules.commands``; a created
   record is linked with ``$result[...]`` chaining in the same batch; stable codes are
   translated with the portal's naming).
3. In one transaction afterwards: claims settled, one audit row per action (what, why,
   which rule, result or error), and the records we wrote stored in the mirror — so the
   echo event of our own write diffs to nothing.

StartTimer / CancelTimer go to ``app.timers.service`` (imported lazily); while that module
is missing they are audited as ``skipped``. MessageClient becomes an outbox row in the same
settle transaction and its send job is queued after the commit (``app.channels``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.rules import actions as A
from app.rules import audit as rule_audit
from app.rules import commands as C
from app.rules import recovery
from app.rules.batching import send_commands
from app.rules.idempotency import REPEATABLE, Item, action_key, claim
from app.rules.naming import Naming
from app.rules.outcomes import (
    DONE,
    DUPLICATE,
    FAILED,
    SKIPPED,
    UNCERTAIN,
    ActionOutcome,
    ApplyReport,
)
from app.rules.writeback import summary, to_mirror
from app.store import audit

__all__ = [
    "DONE",
    "DUPLICATE",
    "FAILED",
    "REPEATABLE",
    "SKIPPED",
    "UNCERTAIN",
    "ActionGroup",
    "ActionOutcome",
    "ApplyReport",
    "action_key",
    "apply_actions",
    "apply_groups",
    "apply_with",
]

log = logging.getLogger(__name__)

TIMER_ACTIONS = (A.StartTimer, A.CancelTimer)
LOCAL_ACTIONS = (*TIMER_ACTIONS, A.MessageClient)  # not batch commands


def apply_actions(
    services: Any,
    member_id: str,
    actions: Sequence[A.Action],
    *,
    cause: str,
    rule: str,
    record: tuple[str, int] | None = None,
) -> ApplyReport:
    """Apply ``actions`` decided by ``rule`` because of ``cause`` (see module doc)."""
    from app.sync.context import portal_context

    ctx = portal_context(services, member_id)
    return apply_with(
        ctx.session_factory,
        ctx.client,
        ctx.naming,
        member_id,
        actions,
        cause=cause,
        rule=rule,
        record=record,
    )


@dataclass(frozen=True)
class ActionGroup:
    """The actions one rule decided for one change; ``record`` (the changed record) when
    groups of several records go out together, else ``apply_groups``'s ``record``."""

    rule: str
    cause: str
    actions: tuple[A.Action, ...]
    record: tuple[str, int] | None = None


def apply_with(
    session_factory: Callable[[], Any],
    client: Any,
    naming: Naming,
    member_id: str,
    actions: Sequence[A.Action],
    *,
    cause: str,
    rule: str,
    record: tuple[str, int] | None = None,
) -> ApplyReport:
    """:func:`apply_actions` with its collaborators given explicitly (used by jobs/tests)."""
    group = ActionGroup(rule, cause, tuple(actions))
    return apply_groups(session_factory, client, naming, member_id, [group], record=record)[0]


def apply_groups(
    session_factory: Callable[[], Any],
    client: Any,
    naming: Naming,
    member_id: str,
    groups: Sequence[ActionGroup],
    *,
    record: tuple[str, int] | None = None,
) -> list[ApplyReport]:
    """Apply the actions of several rules — on one change, or on the changes of several
    records (each group naming its ``record``) — in as few batches as the 50-command limit
    allows; one report per group. Keys, refs and audit rows stay per group (rule + cause +
    record)."""
    items = [
        Item(
            g, action, action_key(member_id, grp.rule, _where(grp, record), grp.cause, action, pos)
        )
        for g, grp in enumerate(groups)
        for pos, action in enumerate(grp.actions)
    ]
    if not items:  # no rule decided anything: no store or portal round trip
        return [ApplyReport() for _ in groups]
    outcomes: list[ActionOutcome | None] = [None] * len(items)

    unsure: dict[int, Any] = {}
    with session_factory() as session:
        rules = [g.rule for g in groups]
        to_send, refs = claim(session, member_id, rules, items, outcomes, unsure)
        session.commit()

    found, to_send = _recover(client, naming, items, unsure, refs, to_send, outcomes)
    portal = [i for i in to_send if not isinstance(items[i].action, LOCAL_ACTIONS)]
    try:
        results, errors = _send(client, naming, items, portal, refs, found)
    except Exception as exc:
        if not_executed(exc):  # a found record stays pending: found again next time
            _release(session_factory, member_id, items, [i for i in portal if i not in found])
        raise
    messages: list[int] = []

    with session_factory() as session:
        for i in to_send:
            action, key = items[i].action, items[i].key
            if isinstance(action, TIMER_ACTIONS):
                status, result, error = _timer(session, member_id, action, key)
            elif isinstance(action, A.MessageClient):
                status, result, error = _message(
                    session, member_id, groups[items[i].group].rule, action, key, messages
                )
            elif i in errors:
                status, result, error = FAILED, None, errors[i]
                _forget_gone_task(session, member_id, action, error)
            else:
                status, result, error = DONE, summary(results.get(i)), None
                if not _for_rules(items, i):
                    to_mirror(session, member_id, action, results.get(i), naming)
            claim_status = audit.FAILED if status == FAILED else audit.DONE
            audit.settle(session, member_id, key, claim_status, result)
            outcomes[i] = ActionOutcome(action, key, status, result, error)
        for item, outcome in zip(items, outcomes, strict=True):
            if outcome is not None:
                grp = groups[item.group]
                rule_audit.write(
                    session, member_id, grp.record or record, grp.rule, grp.cause, outcome
                )
        session.commit()
    if messages:
        _enqueue_messages(member_id, messages)
    reports = [ApplyReport() for _ in groups]
    for item, outcome in zip(items, outcomes, strict=True):
        if outcome is not None:
            reports[item.group].outcomes.append(outcome)
    return reports


def _where(group: ActionGroup, record: tuple[str, int] | None) -> str:
    record = group.record or record
    return f"{record[0]}:{record[1]}" if record else "-"


def _message(session, member_id, rule, action, key, queued) -> tuple[str, Any, str | None]:
    """The outbox row of a MessageClient (the same row on a replay); its id joins ``queued``
    when it still has to be sent."""
    from app.channels.dispatch import record

    try:
        message_id, to_send = record(session, member_id, key, rule, action)
    except (TypeError, ValueError) as exc:  # e.g. a Ref as the record: refused, audited
        return FAILED, None, f"message refused: {exc}"
    if to_send:
        queued.append(message_id)
    return DONE, {"message": message_id}, None


def _enqueue_messages(member_id: str, message_ids: list[int]) -> None:
    from app.channels.dispatch import enqueue_sends

    try:
        enqueue_sends(member_id, message_ids)
    except Exception:  # noqa: BLE001 - the rows stay queued; requeue_stale picks them up
        log.exception("could not queue %d message(s) of %s", len(message_ids), member_id)


def not_executed(exc: BaseException) -> bool:
    """True when the portal provably executed nothing of the batch: it refused it whole
    (rate or operating limit, token, access, portal gone) before its first chunk ran. A 5xx
    or a transport error (timeout) may have left it applied: uncertain, claims stay."""
    from app.portal.errors import PortalError, ServerError, TransportError

    if getattr(exc, "partially_applied", False):
        return False
    return isinstance(exc, PortalError) and not isinstance(exc, ServerError | TransportError)


def _release(session_factory, member_id: str, items, indexes) -> None:
    """The batch was refused before it ran: its claims become ``failed`` so the retried job
    sends them again (a pending claim would read as "maybe done" and never be repeated)."""
    with session_factory() as session:
        for i in indexes:
            audit.settle(session, member_id, items[i].key, audit.FAILED, None)
        session.commit()


def _forget_gone_task(session, member_id: str, action: A.Action, error: str) -> None:
    """A task we meant to change is gone (deleted, its event lost): drop it from the mirror
    so its link closes and the next rule asking for that step makes a new task instead of
    failing on this one again. The failed action stays in the audit."""
    if not isinstance(action, A.UpdateTask):
        return
    from app.store import mirror
    from app.sync.tasks import TASK, is_gone_error

    if is_gone_error(error):
        mirror.mark_deleted(session, member_id, TASK, int(action.task_id))


def _recover(client, naming, items, unsure, refs, to_send, outcomes):
    """Look up the creates an earlier attempt may have made (``app.rules.recovery``).
    Returns (found by index, what is left to send): an item that could not be looked up
    is reported uncertain and not sent."""
    if not unsure:
        return {}, to_send
    found, failed = recovery.look_up(client, naming, items, unsure, refs)
    for i, error in failed.items():
        outcomes[i] = ActionOutcome(items[i].action, items[i].key, UNCERTAIN, error=error)
    if found:
        log.info("found %d record(s) an earlier attempt created", len(found))
    return found, [i for i in to_send if i not in failed]


def _send(
    client, naming, items, indexes, refs, found=None
) -> tuple[dict[int, Any], dict[int, str]]:
    """Send the portal actions; returns (primary result by index, error by index). A
    ``found`` create's result is the record found; only its missing follow-ups are sent."""
    if not indexes:
        return {}, {}
    found = found or {}
    results: dict[int, Any] = {i: found[i].value for i in indexes if i in found}
    errors: dict[int, str] = {}
    commands: list[C.Command] = []
    placeholders: dict[int, dict[str, Any]] = {g: dict(r) for g, r in refs.items()}
    for i in indexes:
        item = items[i]
        try:
            commands.extend(
                C.build(
                    [item.action],
                    naming,
                    [i],
                    placeholders[item.group],
                    marks={i: recovery.marks(item.action, item.key, naming)},
                    found={i: found[i]} if i in found else None,
                )
            )
        except (KeyError, ValueError) as exc:
            errors[i] = f"cannot translate: {exc}"
            continue
        if isinstance(item.action, A.CreateRecord) and item.action.ref:
            # later actions of the same rule link to it (batch chaining, or its found id)
            placeholders[item.group][item.action.ref] = (
                found[i].id if i in found else f"$result[{C.label(i)}][item][id]"
            )
    by_label = send_commands(client, commands)
    for cmd in commands:
        outcome = by_label.get(cmd.label)
        if outcome is None:
            continue
        ok, value = outcome
        if not ok:
            errors.setdefault(cmd.index, value)
        elif cmd.primary:
            results[cmd.index] = value
    return results, errors


def _for_rules(items, i: int) -> bool:
    """True when action ``i`` writes to a record its group creates with ``run_rules``: the
    mirror must not learn that record from the link's answer either, or its ADD event would
    find nothing new and the rules would never see it."""
    action = items[i].action
    fresh = {
        item.action.ref
        for item in items
        if item.group == items[i].group
        and isinstance(item.action, A.CreateRecord)
        and item.action.run_rules
        and item.action.ref
    }
    if not fresh:
        return False
    if isinstance(action, A.LinkRecords):
        targets = (action.child[1],)
    elif isinstance(action, A.UpdateFields | A.MoveStage):
        targets = (action.record_id,)
    else:
        return False
    return any(isinstance(t, A.Ref) and t.name in fresh for t in targets)


def _timer(session, member_id: str, action: A.Action, key: str) -> tuple[str, Any, str | None]:
    try:
        from app.timers import service
    except ImportError:
        return SKIPPED, None, "app.timers.service is not available"
    try:
        return _timer_call(service, session, member_id, action, key)
    except ValueError as exc:  # e.g. a Ref as the record: refused, audited, not retried
        return FAILED, None, f"timer refused: {exc}"


def _timer_call(
    service, session, member_id: str, action: A.Action, key: str
) -> tuple[str, Any, str | None]:
    if isinstance(action, A.StartTimer):
        timer_id = service.start_timer(
            session,
            member_id,
            kind=action.kind,
            due_at=action.due_at,
            record=action.record,
            payload=dict(action.payload),
            cancel_on=action.cancel_on,
            key=key,
        )
        return DONE, {"id": timer_id} if isinstance(timer_id, int | str) else None, None
    count = service.cancel_timers(session, member_id, kind=action.kind, record=action.record)
    return DONE, {"cancelled": count} if isinstance(count, int) else None, None


def created_records(reports: Sequence[ApplyReport], naming: Naming) -> list[tuple[str, int]]:
    """Records these reports created, named as the portal's events name them
    (``("deal", 5)``, ``("dynamic:1220", 22)``, ``("activity", 9)``) — for
    ``app.sync.dirty.remember_created``, so their ADD echo costs no read. Not tasks: the
    app does not bind ONTASKADD, so the marker would swallow the task's first UPDATE."""
    out: list[tuple[str, int]] = []
    for report in reports:
        for o in report.outcomes:
            rid = o.result.get("id") if o.status == DONE and isinstance(o.result, dict) else None
            if not isinstance(rid, int | str) or not str(rid).isdigit():
                continue
            if isinstance(o.action, A.CreateTodo):
                out.append(("activity", int(rid)))
            elif isinstance(o.action, A.CreateRecord) and not o.action.run_rules:
                out.append((event_entity(naming, o.action.entity), int(rid)))
    return out


def event_entity(naming: Naming, entity: str) -> str:
    """The entity name the portal's events use for ``entity``: CRM entities and
    ``activity`` keep theirs, a smart process's stable code becomes ``dynamic:<etid>``."""
    if entity.startswith("dynamic:") or entity in EVENT_ENTITIES:
        return entity
    return f"dynamic:{naming.entity_type_id(entity)}"


EVENT_ENTITIES = frozenset({"lead", "deal", "contact", "company", "activity", "task"})
