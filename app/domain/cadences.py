"""The playbooks' escalation chains and cadences, built on :mod:`app.domain.sequences`.

Every duration is a parameter with the spec's default, so settings can override it.
"""

from __future__ import annotations

from datetime import timedelta

from app.domain.sequences import Sequence, Step

__all__ = ["sos_chain", "store_escalation", "deferred_demand_cadence", "store_visit_nurture"]


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
