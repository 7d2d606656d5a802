"""Named cancel conditions: what the timer job re-checks on the fresh record before acting.

A condition is a pure function ``(record, payload) -> reason | None``: a reason (a short
text kept on the timer row) means "do not act, cancel the timer". ``record`` is the current
snapshot keyed like rules see it (stable field codes, the stage as a stable code); ``payload``
is what the rule stored when it started the timer (e.g. the stage it was started in). A
deleted record always cancels. Playbooks add their own with :func:`condition`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from app.rules.model import RESPONSIBLE_FIELD, STAGE_FIELD

Condition = Callable[[Mapping[str, Any], Mapping[str, Any]], "str | None"]
_CONDITIONS: dict[str, Condition] = {}


class UnknownCondition(ValueError):
    """A timer names a cancel condition no module registered (a typo or a removed one)."""


def condition(name: str) -> Callable[[Condition], Condition]:
    """Register ``fn`` as the condition ``name`` (decorator)."""

    def add(fn: Condition) -> Condition:
        _CONDITIONS[name] = fn
        return fn

    return add


def cancel_reason(
    name: str | None, record: Mapping[str, Any] | None, payload: Mapping[str, Any]
) -> str | None:
    """Why the timer must not act now, or None to go ahead."""
    if record is None:
        return "record deleted"
    if not name:
        return None
    fn = _CONDITIONS.get(name)
    if fn is None:
        raise UnknownCondition(f"unknown timer cancel condition {name!r}")
    return fn(record, payload)


@condition("stage_left")
def stage_left(record: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    """The record is no longer in the stage the timer was started in (``payload["stage"]``)."""
    stage = payload.get("stage")
    if stage and record.get(STAGE_FIELD) != stage:
        return f"stage left: now {record.get(STAGE_FIELD)}"
    return None


@condition("responsible_changed")
def responsible_changed(record: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    """Someone else is responsible now (``payload["responsible"]`` was the one at start)."""
    before = payload.get("responsible")
    now = record.get(RESPONSIBLE_FIELD)
    if before is not None and now is not None and int(now) != int(before):
        return f"responsible changed to {now}"
    return None


@condition("lead_taken")
def lead_taken(record: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    """Kitchens SOS: the lead left «Не обработан» or got another responsible."""
    return stage_left(record, payload) or responsible_changed(record, payload)


def _later(value: Any, since: Any) -> bool:
    try:
        return datetime.fromisoformat(str(value)) > datetime.fromisoformat(str(since))
    except (TypeError, ValueError):
        return False


@condition("client_contacted")
def client_contacted(record: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    """Furniture escalation: stage moved on, the lead was reassigned, or an activity was
    logged on it after the timer started (``payload["since"]``)."""
    if reason := stage_left(record, payload) or responsible_changed(record, payload):
        return reason
    if payload.get("since") and _later(record.get("lastActivityTime"), payload["since"]):
        return "activity logged since the hand-off"
    return None


@condition("client_returned")
def client_returned(record: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    """Cadences waiting for the client: the stage moved on, or the client communicated
    (a call, e-mail, chat or form) after the cadence started (``payload["since"]``)."""
    if reason := stage_left(record, payload):
        return reason
    if payload.get("since") and _later(record.get("lastCommunicationTime"), payload["since"]):
        return "the client got in touch"
    return None
