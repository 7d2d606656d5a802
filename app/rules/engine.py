"""Run the matching rules on changes. Pure: no I/O, no clock (``now`` is passed in).

A rule that raises does not stop the others: its error is returned as a :class:`Decision`
with ``error`` set, so the job can audit it (a bug in one rule is not fixed by retrying the
whole change, and must not block unrelated rules).

Ownership is enforced here, once for every rule: a change's record belongs to one installed
playbook (``app.rules.ownership``) and only that playbook's rules see it; a rule may start
only its own playbook's timers, and only on the change's own record or on a shared client
(contact, company): a timer on another lead, deal or item would act later on a record
whose owner was never asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.rules.actions import Action, Ref, StartTimer
from app.rules.dispatch import DispatchTable
from app.rules.model import Change, Rule, RuleContext
from app.rules.ownership import SHARED_ENTITIES, governed, may_act, record_owner


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
    """Each matching (rule, change) → a :class:`Decision`. ``settings`` is keyed by playbook.

    Rules of a playbook that does not own the change's record are not run at all (no
    Decision: nothing audited, nothing written)."""
    out: list[Decision] = []
    installed = tuple(table.playbooks) or tuple(settings)
    for change in changes:
        rules = table.for_change(change)
        if not rules:
            continue
        owner = record_owner(
            change.entity,
            record,
            installed=installed,
            naming=schema,
            settings=settings,
            change=change,
            related=related,
        )
        for rule in rules:
            if not may_act(rule, owner):
                continue
            ctx = RuleContext(
                change=change,
                record=record,
                related=related,
                settings=settings.get(rule.playbook, {}),
                schema=schema,
                now=now,
                owner=owner or None,
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
            foreign = [a.kind for a in actions if _foreign_timer(rule, a)]
            if foreign:
                out.append(Decision(rule, change, error=f"rule started foreign timers: {foreign}"))
                continue
            elsewhere = [a.record for a in actions if _timer_elsewhere(change, a)]
            if elsewhere:
                out.append(
                    Decision(
                        rule, change, error=f"rule started timers on other records: {elsewhere}"
                    )
                )
                continue
            out.append(Decision(rule, change, tuple(actions)))
    return out


def _foreign_timer(rule: Rule, action: Action) -> bool:
    """A StartTimer of another playbook's kind (timer kinds are ``<playbook>.<name>``)."""
    if not isinstance(action, StartTimer) or not governed(rule.playbook):
        return False
    return action.kind.split(".", 1)[0] != rule.playbook


def _timer_elsewhere(change: Change, action: Action) -> bool:
    """A StartTimer on a lead, deal or item that is not the change's own record.

    Contacts and companies are shared by every playbook, so a timer on the client is
    allowed; a record the same action list creates (a :class:`Ref`) is the rule's own."""
    if not isinstance(action, StartTimer):
        return False
    entity, record_id = action.record
    if entity in SHARED_ENTITIES or isinstance(record_id, Ref):
        return False
    try:
        same = int(record_id) == int(change.record_id)
    except (TypeError, ValueError):
        same = False
    return not (entity == change.entity and same)


def needed_related(table: DispatchTable, entity: str) -> frozenset[str]:
    return frozenset(n for r in table.rules if r.entity == entity for n in r.needs)
