"""What happened to each applied action: :class:`ActionOutcome`, :class:`ApplyReport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.rules.actions import Action

DONE = "done"
SKIPPED = "skipped"
FAILED = "failed"
DUPLICATE = "duplicate"
UNCERTAIN = "uncertain"


@dataclass
class ActionOutcome:
    action: Action
    key: str
    status: str  # done | skipped | failed | duplicate | uncertain
    result: Any = None
    error: str | None = None


@dataclass
class ApplyReport:
    """What happened to each action, in input order."""

    outcomes: list[ActionOutcome] = field(default_factory=list)

    def with_status(self, status: str) -> list[ActionOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def done(self) -> list[ActionOutcome]:
        return self.with_status(DONE)

    @property
    def duplicates(self) -> list[ActionOutcome]:
        return self.with_status(DUPLICATE)

    @property
    def failed(self) -> list[ActionOutcome]:
        return self.with_status(FAILED)
