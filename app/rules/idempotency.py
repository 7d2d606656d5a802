"""Exactly-once effects: the idempotency key of an action and the claim step.

The key of an action is derived from (member, rule, record, change cause, slot) — never from
the time of processing — so a replayed event or a retried job derives the same key. Keys are
claimed in ``app.store.audit``'s claim table before anything is sent:

* no claim        → take it, send the action;
* ``done``        → duplicate, skip (a created record's id is kept for later ``Ref``s);
* ``failed``      → the portal refused it before, nothing happened: claim again and send;
* ``pending``     → an earlier attempt died between sending and recording: re-send the
                    actions that are harmless to repeat (:data:`REPEATABLE`); a create the
                    app can find again (``app.rules.recovery``) is looked for first and
                    created only when it is not there; report the others (chat messages,
                    to-dos) as ``uncertain`` rather than risk sending them twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.rules import actions as A
from app.rules.outcomes import DUPLICATE, UNCERTAIN, ActionOutcome
from app.rules.recovery import resolvable
from app.store import audit

# MessageClient only records an outbox row (unique per key): recording it again is harmless,
# and the outbox's own claim keeps the message itself to one send. A Notify goes out with a
# TAG of its key (app.rules.recovery): sent again, it replaces the first one. StartTimer
# creates its timer unless one with its key exists (app.timers.service.start_timer).
REPEATABLE = (
    A.UpdateFields,
    A.MoveStage,
    A.LinkRecords,
    A.DeleteRecord,
    A.StartTimer,
    A.CancelTimer,
    A.MessageClient,
    A.Notify,
)


def action_key(
    member_id: str, rule: str, record: str, cause: str, action: A.Action, position: int
) -> str:
    """The stable idempotency key of one action (same inputs on a replay → same key).
    An action's ``once`` (see ``CreateTask``) is its whole key within the portal."""
    once = getattr(action, "once", "")
    if once:
        raw = "\x1f".join((member_id, "once", once))
        return hashlib.sha256(raw.encode()).hexdigest()
    raw = "\x1f".join((member_id, rule, record, cause, action.slot(position)))
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class Item:
    """One action of one rule's group, with its key."""

    group: int
    action: A.Action
    key: str


# Creates whose follow-up commands (a link, checklist items) can fail after the record was
# made: a ``failed`` claim of theirs is looked up too before it is sent again.
WITH_FOLLOW_UPS = (A.CreateRecord, A.CreateTask)


def claim(
    session,
    member_id,
    rules: list[str],
    items: list[Item],
    outcomes: list,
    unsure: dict[int, datetime] | None = None,
) -> tuple[list[int], dict[int, dict[str, Any]]]:
    """Claim every item's key; returns the indexes to send and, per group, refs of records
    created by earlier runs. ``unsure`` (when given) receives the indexes to send whose
    create an earlier attempt may have made, each with when that attempt claimed it: the
    caller looks them up first (``app.rules.recovery``). Without it they stay uncertain."""
    claims = audit.existing_claims(session, member_id, [it.key for it in items])
    to_send: list[int] = []
    refs: dict[int, dict[str, Any]] = {g: {} for g in range(len(rules))}
    for i, item in enumerate(items):
        action, key, claim = item.action, item.key, claims.get(item.key)
        if claim is None:
            if audit.try_claim(session, member_id, key, rules[item.group]):
                to_send.append(i)
            else:  # a concurrent worker holds it
                outcomes[i] = ActionOutcome(action, key, DUPLICATE)
        elif claim.status == audit.DONE:
            outcomes[i] = ActionOutcome(action, key, DUPLICATE, claim.result)
            created = claim.result.get("id") if isinstance(claim.result, dict) else None
            if isinstance(action, A.CreateRecord) and action.ref and created:
                refs[item.group][action.ref] = int(created)
        elif claim.status == audit.FAILED:
            if unsure is not None and isinstance(action, WITH_FOLLOW_UPS) and resolvable(action):
                unsure[i] = claim.claimed_at
            audit.reclaim_failed(session, claim)
            to_send.append(i)
        elif isinstance(action, REPEATABLE):
            to_send.append(i)  # pending after a crash; repeating it is harmless
        elif unsure is not None and resolvable(action):
            unsure[i] = claim.claimed_at  # made or not: looked up before it is sent
            to_send.append(i)
        else:
            outcomes[i] = ActionOutcome(
                action, key, UNCERTAIN, error="an earlier attempt died after claiming; not repeated"
            )
    return to_send, refs
