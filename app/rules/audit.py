"""Audit rows for applied actions: what (action type + values), why (rule + cause), on
which record, and the result or error. Stored by ``app.store.audit``."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from app.rules.actions import Action
from app.rules.outcomes import ActionOutcome
from app.store import audit


def write(session, member_id, record, rule, cause, outcome: ActionOutcome) -> None:
    entity, record_id = record if record else ("-", None)
    audit.record(
        session,
        member_id=member_id,
        entity=entity,
        record_id=record_id,
        rule=rule,
        cause=cause,
        action_type=outcome.action.action_type,
        action=plain(outcome.action),
        status=outcome.status,
        key=outcome.key,
        result=outcome.result,
        error=outcome.error,
    )


def plain(action: Action) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(action), default=str))
