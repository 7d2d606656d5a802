"""Escalation chains and cadences (``app.domain.sequences``) running on durable timers.

A :class:`SequenceSpec` ties a timer kind to a sequence and to what each step does. Rule
modules use three helpers::

    SOS = SequenceSpec("kitchens.sos", "lead", build=lambda s: sos_chain(...), act=_notify,
                       cancel_on="lead_taken", roles=lambda s: {"sales", "head_of_sales", "ceo"})
    start(SOS, ctx, payload={"stage": ...})   # -> StartTimer for the first due step
    stop(SOS, ctx)                            # -> CancelTimer
    SOS.rule("sos_fire")                      # -> the Rule that handles the timer

The timer's payload carries the sequence's start time and the keys of the firings already
done (``"step:occurrence"``); each firing decides that step's actions (keyed by the firing,
so a replay repeats nothing) plus a StartTimer for the next firing. After an outage the due
firings collapse as the sequence says (an escalation fires once at its widest step; a
cadence performs every missed step once, in order). With a work calendar (setting
``<kind>`` → ``working_hours: true`` handled by ``calendar``) durations are working time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.domain.calendar import WorkCalendar
from app.domain.sequences import Firing, Sequence, due_firings, next_step
from app.rules.actions import Action, CancelTimer, StartTimer
from app.rules.model import Rule, RuleContext, on_timer
from app.timers import handlers

Act = Callable[[Firing, RuleContext], "list[Action]"]


@dataclass(frozen=True)
class SequenceSpec:
    """``kind`` must start with the playbook name (``"kitchens.sos"``): the timer job reads
    that playbook's settings to build the sequence and resolve its audiences."""

    kind: str
    entity: str
    build: Callable[[Mapping[str, Any]], Sequence]
    act: Act
    cancel_on: str | None = None
    calendar: Callable[[Mapping[str, Any]], WorkCalendar | None] = lambda _s: None
    roles: Callable[[Mapping[str, Any]], Iterable[str]] | None = None

    def __post_init__(self) -> None:
        roles = self.roles or (lambda s: {r for st in self.build(s).steps for r in st.audience})
        handlers.register_kind(self.kind, roles)

    def rule(self, name: str) -> Rule:
        """The rule firing this sequence's timers."""
        return Rule(name, self.entity, on_timer(self.kind), lambda ctx: fire_step(self, ctx))


def start(
    spec: SequenceSpec,
    ctx: RuleContext,
    *,
    started_at: datetime | None = None,
    payload: Mapping[str, Any] | None = None,
    key: str = "",
) -> list[Action]:
    """The StartTimer of the sequence's first firing (``[]`` for an empty sequence).
    ``payload`` adds what the cancel condition needs (e.g. ``{"stage": ...}``)."""
    started = started_at or ctx.now
    seq = spec.build(ctx.settings)
    first = next_step(seq, started, (), started, spec.calendar(ctx.settings))
    if first is None:
        return []
    body = {**(payload or {}), "started_at": started.isoformat(), "fired": []}
    return [
        StartTimer(
            spec.kind,
            first.due_at,
            (spec.entity, ctx.change.record_id),
            body,
            spec.cancel_on,
            key=key or f"start:{spec.kind}",
        )
    ]


def stop(spec: SequenceSpec, ctx: RuleContext, *, key: str = "") -> list[Action]:
    """Cancel the sequence's timers on this record."""
    return [
        CancelTimer(spec.kind, (spec.entity, ctx.change.record_id), key=key or f"stop:{spec.kind}")
    ]


def fire_step(spec: SequenceSpec, ctx: RuleContext) -> list[Action]:
    """The actions of the firings due now, then the timer of the next firing."""
    payload = dict(ctx.change.detail.get("payload") or {})
    started = datetime.fromisoformat(payload["started_at"])
    fired = list(payload.get("fired") or [])
    seq = spec.build(ctx.settings)
    cal = spec.calendar(ctx.settings)
    out: list[Action] = []
    done = list(fired)
    for firing in due_firings(seq, started, fired, ctx.now, cal):
        for i, action in enumerate(spec.act(firing, ctx)):
            # keyed by the firing: a replay of this timer repeats nothing
            out.append(_keyed(action, f"{firing.key}:{i}"))
        done.append(firing.key)
    following = next_step(seq, started, done, ctx.now, cal)
    if following is not None and following.key not in done:
        out.append(
            StartTimer(
                spec.kind,
                following.due_at,
                (spec.entity, ctx.change.record_id),
                {**payload, "fired": compact(done)},
                spec.cancel_on,
                key="next",
            )
        )
    return out


def compact(keys: list[str]) -> list[str]:
    """Only what ``due_firings`` consults: each step's first and latest occurrence (a
    repeating SOS would otherwise grow its payload every quarter hour)."""
    latest: dict[str, int] = {}
    for k in keys:
        step, occurrence = k.split(":")
        latest[step] = max(latest.get(step, 0), int(occurrence))
    out = [f"{s}:0" for s in latest]
    out += [f"{s}:{n}" for s, n in latest.items() if n]
    return out


def _keyed(action: Action, key: str) -> Action:
    import dataclasses

    return action if getattr(action, "key", "") else dataclasses.replace(action, key=key)


def audience_ids(ctx: RuleContext, roles: Iterable[str]) -> tuple[int, ...]:
    """User ids of ``roles`` as the timer job resolved them (order kept, no duplicates)."""
    resolved = ctx.related.get("audiences") or {}
    out: list[int] = []
    for role in roles:
        for uid in resolved.get(role, ()):
            if uid not in out:
                out.append(uid)
    return tuple(out)
