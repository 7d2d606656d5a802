"""Escalation chains and cadences as data, and when their steps fall due.

A sequence is a list of steps; each step's ``after`` counts from the previous step (so the
metal deferred-demand cadence reads 60 d / 30 d / 30 d). A step may repeat every
``repeat_every`` until the next step starts (the last one until the stop condition, or
``max_occurrences``). Each firing has a stable ``key`` ("step:occurrence") that the caller
records so a replayed timer never fires twice. With a :class:`WorkCalendar` durations are
working time. Audiences are symbolic roles ("sales", "head_of_sales", "ceo") resolved
elsewhere; ``stop_condition`` names what ends the sequence (checked by the caller).
The playbooks' own chains and cadences are in :mod:`app.domain.cadences`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.domain.calendar import WorkCalendar

__all__ = [
    "Step",
    "Sequence",
    "Firing",
    "firings",
    "due_firings",
    "next_step",
]


@dataclass(frozen=True)
class Step:
    """``action``: notify | message_client | task | move_stage | close_lost | …;
    ``template`` is the message/task text template; ``params`` anything the action needs."""

    after: timedelta
    action: str
    audience: tuple[str, ...] = ()
    template: str = ""
    params: Mapping[str, object] = field(default_factory=dict)
    repeat_every: timedelta | None = None
    max_occurrences: int | None = None


@dataclass(frozen=True)
class Sequence:
    name: str
    steps: tuple[Step, ...]
    stop_condition: str = ""
    # Escalations: when several steps are due at once only the latest (widest) one matters.
    # Cadences keep False: every due action (message, task, stage move) must happen.
    collapse: bool = False

    def __post_init__(self) -> None:
        for i, s in enumerate(self.steps):
            if s.after < timedelta(0):
                raise ValueError(f"step {i}: after must not be negative")
            if s.repeat_every is not None and s.repeat_every <= timedelta(0):
                raise ValueError(f"step {i}: repeat_every must be positive")


@dataclass(frozen=True)
class Firing:
    index: int
    occurrence: int
    due_at: datetime
    step: Step

    @property
    def key(self) -> str:
        return f"{self.index}:{self.occurrence}"


def _add(start: datetime, amount: timedelta, cal: WorkCalendar | None) -> datetime:
    return start + amount if cal is None else cal.add_working(start, amount)


def _elapsed(start: datetime, end: datetime, cal: WorkCalendar | None) -> timedelta:
    return end - start if cal is None else cal.working_time_between(start, end)


def _starts(seq: Sequence, started_at: datetime, cal: WorkCalendar | None) -> list[datetime]:
    starts, moment = [], started_at
    for step in seq.steps:
        moment = _add(moment, step.after, cal)
        starts.append(moment)
    return starts


def _window(seq: Sequence, starts: list[datetime], i: int) -> tuple[datetime, datetime | None]:
    return starts[i], starts[i + 1] if i + 1 < len(starts) else None


def firings(
    seq: Sequence, started_at: datetime, calendar: WorkCalendar | None = None
) -> Iterator[Firing]:
    """All firings in time order (infinite when the last step repeats without a limit)."""
    starts = _starts(seq, started_at, calendar)
    for i, step in enumerate(seq.steps):
        begin, end = _window(seq, starts, i)
        k = 0
        while True:
            due = begin if k == 0 else _add(begin, step.repeat_every * k, calendar)  # type: ignore[operator]
            if k and end is not None and due >= end:
                break
            yield Firing(i, k, due, step)
            k += 1
            if step.repeat_every is None or (step.max_occurrences and k >= step.max_occurrences):
                break


def due_firings(
    seq: Sequence,
    started_at: datetime,
    fired: Collection[str],
    now: datetime,
    calendar: WorkCalendar | None = None,
) -> list[Firing]:
    """Firings due at ``now`` and not in ``fired`` (keys), in order.

    Missed repeats collapse: for a repeating step only its latest due occurrence is returned
    (after an outage the SOS fires once, not once per missed quarter hour). Missed steps are
    all returned in order, unless ``seq.collapse``: then only the latest due step, if unfired.
    """
    starts = _starts(seq, started_at, calendar)
    out = []
    for i, step in enumerate(seq.steps):
        begin, end = _window(seq, starts, i)
        if begin > now:
            break
        k = 0
        if step.repeat_every is not None:
            limit = now if end is None or now < end else end - timedelta(microseconds=1)
            k = _elapsed(begin, limit, calendar) // step.repeat_every
            if step.max_occurrences:
                k = min(k, step.max_occurrences - 1)
            # Working-time rounding can overshoot by one occurrence; step back while in future.
            while k and _add(begin, step.repeat_every * k, calendar) > now:
                k -= 1
        firing = Firing(
            i, k, begin if k == 0 else _add(begin, step.repeat_every * k, calendar), step
        )  # type: ignore[operator]
        if firing.key not in fired:
            out.append(firing)
        elif seq.collapse:
            out = []  # an already fired later step supersedes earlier unfired ones
    return out[-1:] if seq.collapse else out


def next_step(
    seq: Sequence,
    started_at: datetime,
    fired: Collection[str],
    now: datetime,
    calendar: WorkCalendar | None = None,
) -> Firing | None:
    """The firing to act on now (first of :func:`due_firings`), else the next future firing
    to set a timer for, else None when the sequence is exhausted."""
    due = due_firings(seq, started_at, fired, now, calendar)
    if due:
        return due[0]
    for f in firings(seq, started_at, calendar):
        if f.due_at > now and f.key not in fired:
            return f
    return None
