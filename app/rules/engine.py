"""Run the matching rules on changes. Pure: no I/O, no clock (``now`` is passed in).

A rule that raises does not stop the others: its error is returned as a :class:`Decision`
with ``error`` set, so the job can audit it (a bug in one rule is not fixed by retrying the
whole change, and must not block unrelated rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.rules.actions import Action
from app.rules.dispatch import DispatchTable
from app.rules.model import Change, Rule, RuleContext


@dataclass(frozen=True)
class Decision:
    """What one rule decided on one change."""

    rule: Rule
    change: Change
    actions: tuple[Action, ...] = ()
    error: str | None = None


def decide(
    table: DispatchTable,
    changes: Iterable[Change],
    *,
    record: Mapping[str, Any] | None,
    related: Mapping[str, Any],
    settings: Mapping[str, Mapping[str, Any]],
    schema: Any,
    now: datetime,
) -> list[Decision]:
    """Each matching (rule, change) → a :class:`Decision`. ``settings`` is keyed by playbook."""
    out: list[Decision] = []
    for change in changes:
        for rule in table.for_change(change):
            ctx = RuleContext(
                change=change,
                record=record,
                related=related,
                settings=settings.get(rule.playbook, {}),
                schema=schema,
                now=now,
            )
            try:
                actions = rule.decide(ctx) or []
            except Exception as exc:  # a rule bug is audited, the other rules still run
                out.append(Decision(rule, change, error=f"{type(exc).__name__}: {exc}"))
                continue
            bad = [a for a in actions if not isinstance(a, Action)]
            if bad:
                out.append(Decision(rule, change, error=f"rule returned non-actions: {bad!r}"))
                continue
            out.append(Decision(rule, change, tuple(actions)))
    return out


def needed_related(table: DispatchTable, entity: str) -> frozenset[str]:
    return frozenset(n for r in table.rules if r.entity == entity for n in r.needs)
