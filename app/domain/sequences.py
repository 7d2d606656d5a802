"""Escalation chains and cadences as data, and when their steps fall due.

A sequence is a list of steps; each step's ``after`` counts from the previous step (so the
metal deferred-demand cadence reads 60 d / 30 d / 30 d). A step may repeat every
``repeat_every`` until the next step starts (the last one until the stop condition, or
``max_occurrences``). Each firing has a stable ``key`` ("step:occurrence") that the caller
records so a replayed timer never fires twice. With a :class:`WorkCalendar` durations are
working time. Audiences are symbolic roles ("sales", "head_of_sales", "ceo") resolved
elsewhere; ``stop_condition`` names what ends the sequence (checked by the caller).
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
    "sos_chain",
    "store_escalation",
    "deferred_demand_cadence",
    "store_visit_nurture",
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


def sos_chain(every: timedelta = timedelta(minutes=15)) -> Sequence:
    """Kitchens SOS for an unprocessed lead: sales at once, + head of sales after ``every``,
    + CEO after another ``every``, then all three every ``every`` until the lead is taken."""
    text = "SOS: лид «{title}» не обработан уже {minutes} мин"
    return Sequence(
        "sos",
        (
            Step(timedelta(0), "notify", ("sales",), text),
            Step(every, "notify", ("sales", "head_of_sales"), text),
            Step(every, "notify", ("sales", "head_of_sales", "ceo"), text, repeat_every=every),
        ),
        stop_condition="lead_taken",
        collapse=True,
    )


def store_escalation(
    remind_after: timedelta = timedelta(hours=1), manager_after: timedelta = timedelta(hours=3)
) -> Sequence:
    """Furniture: remind the store administrator, then tell the store manager if the client
    is still not contacted ``manager_after`` (default 3 h) after the hand-off."""
    return Sequence(
        "store_escalation",
        (
            Step(
                remind_after, "notify", ("store_admin",), "Свяжитесь с клиентом по лиду «{title}»"
            ),
            Step(
                manager_after - remind_after,
                "notify",
                ("store_manager",),
                "Администратор не связался с клиентом по лиду «{title}»",
            ),
        ),
        stop_condition="client_contacted",
        collapse=True,
    )


def deferred_demand_cadence(
    first: timedelta = timedelta(days=60),
    second: timedelta = timedelta(days=30),
    call: timedelta = timedelta(days=30),
) -> Sequence:
    """Metal «Отложенный спрос»: reminder, second reminder, then a call task and a move to
    «Возобновление работы»; stops when the client gets in touch."""
    return Sequence(
        "deferred_demand",
        (
            Step(first, "message_client", template="deferred_reminder_1"),
            Step(second, "message_client", template="deferred_reminder_2"),
            Step(call, "task", ("responsible",), "Позвонить клиенту и возобновить работу"),
            Step(timedelta(0), "move_stage", params={"stage": "resumed"}),
        ),
        stop_condition="client_returned",
    )


def store_visit_nurture(
    touches: tuple[tuple[timedelta, str], ...] = (
        (timedelta(days=3), "store_visit_reminder"),
        (timedelta(days=7), "store_visit_offer"),
        (timedelta(days=10), "store_visit_reminder"),
    ),
    close_after: timedelta = timedelta(days=30),
) -> Sequence:
    """Furniture: messages during the month after a store visit, then (at ``close_after``
    from the visit) create a Contact and close the lead as «Не вернулся после визита»."""
    steps = [Step(after, "message_client", template=t) for after, t in touches]
    spent = sum((after for after, _ in touches), timedelta(0))
    if spent > close_after:
        raise ValueError("nurture messages run past the closing day")
    steps.append(
        Step(
            close_after - spent,
            "close_lost",
            params={"stage": "did_not_return", "create_contact": True},
        )
    )
    return Sequence("store_visit_nurture", tuple(steps), stop_condition="client_returned")
