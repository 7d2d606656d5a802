"""Apply a rule's actions to the portal: one batch, each effect at most once, audited.

Contract (other parts code against this; the implementation lands in the same module):

``apply_actions(services, member_id, actions, *, cause, rule, record=None) -> ApplyReport``

* Each action's effective idempotency key is :func:`action_key` (member, rule, record,
  cause, slot). It is claimed in the store's claim table before the call is sent; an
  action whose key is already *done* is skipped, so a replay or a retried job never
  duplicates a notification, task or created record.
* All pending portal actions go out as one ``batch`` (CreateRecord + link via
  ``$result[...]`` chaining); stable codes are translated through the portal's SchemaMap.
* Every action gets an audit row (what, why = cause, which rule, result or error).
* Records we wrote are written to the mirror, so our own write coming back as an event
  diffs to nothing.
* StartTimer / CancelTimer go to ``app.timers.service``; while that module does not exist
  they are audited as ``skipped``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from app.rules.actions import Action

DONE = "done"
SKIPPED = "skipped"
FAILED = "failed"
DUPLICATE = "duplicate"


def action_key(
    member_id: str, rule: str, record: str, cause: str, action: Action, position: int
) -> str:
    """The stable idempotency key of one action (same inputs on a replay → same key)."""
    raw = "\x1f".join((member_id, rule, record, cause, action.slot(position)))
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class ActionOutcome:
    action: Action
    key: str
    status: str  # done | skipped | failed | duplicate
    result: Any = None
    error: str | None = None


@dataclass
class ApplyReport:
    """What happened to each action, in input order."""

    outcomes: list[ActionOutcome] = field(default_factory=list)

    @property
    def done(self) -> list[ActionOutcome]:
        return [o for o in self.outcomes if o.status == DONE]

    @property
    def duplicates(self) -> list[ActionOutcome]:
        return [o for o in self.outcomes if o.status == DUPLICATE]

    @property
    def failed(self) -> list[ActionOutcome]:
        return [o for o in self.outcomes if o.status == FAILED]
