"""Metal: routing of a lead in «Не обработан» (spec §1 lead rule 1) and the reassignment table.

The lead's origin is read from the card: ``sourceId`` WEBFORM is a web form. An e-mail lead
is told apart by the mailbox it came to when ``shared_mailboxes`` lists the shared
addresses: one of them in the lead's «Источник — дополнительно» (``sourceDescription``)
means the shared mailbox, another address there means a manager's own mailbox. (The REST
docs do not say where Bitrix24 records the receiving mailbox; when no address is found
there, or the setting is empty, the responsible decides as before: the head of sales
(«РОП», ``head_of_sales_id``) means the shared mailbox/line, anyone else a manager's own
channel.) A repeat client is
found in the mirror by phone / e-mail / company (need ``metal.client``). When the decision
is «Данные заполнены» the Object check runs in the same pass (our own stage move does not
come back as a change). A matching row of ``routing_table`` (region, area, position,
manager…) then picks the responsible and moves the lead to the row's stage («Передан
менеджеру» by default) — a web form with complete data too, after its Object check; the
responsible's position comes from ``user.get`` in the lead's own fetch batch, so rows with
``positions`` match here exactly as in the ``route_lead`` robot.
"""

from __future__ import annotations

import re
from typing import Any

from app.domain.numbers import ValueProblem, parse_number
from app.domain.routing import (
    DATA_COMPLETE,
    RoutingFacts,
    SourceKind,
    UnprocessedLead,
    decide_unprocessed,
    route,
    rule_from_dict,
    validate_table,
)
from app.objects.keys import area_of, keys_of
from app.objects.providers import CANDIDATES, CLIENT, comms
from app.playbooks.metal.rules_objects import object_actions
from app.robots.route_lead import stage_code
from app.rules import actions as A
from app.rules.model import RESPONSIBLE_FIELD, STAGE_FIELD, Rule, RuleContext, on_stage_entered
from app.sync.fetch import RESPONSIBLE_USER

UNPROCESSED = "metal.lead.unprocessed"
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
DATA_COMPLETE_STAGE = "metal.lead.data_complete"


def _mailbox_kind(record: dict, shared: list) -> SourceKind | None:
    """SHARED_MAILBOX / PERSONAL_CHANNEL by the address in ``sourceDescription``; None
    when the setting is empty or no address is found there."""
    wanted = {str(a).strip().casefold() for a in shared or [] if str(a).strip()}
    if not wanted or str(record.get("sourceId") or "").upper() != "EMAIL":
        return None
    found = {a.casefold() for a in EMAIL_RE.findall(str(record.get("sourceDescription") or ""))}
    if not found:
        return None
    return SourceKind.SHARED_MAILBOX if found & wanted else SourceKind.PERSONAL_CHANNEL


def source_kind(record: dict, head: int, shared: list | None = None) -> SourceKind:
    if str(record.get("sourceId") or "").upper() == "WEBFORM":
        return SourceKind.WEB_FORM
    by_mailbox = _mailbox_kind(record, shared or [])
    if by_mailbox is not None:
        return by_mailbox
    who = record.get(RESPONSIBLE_FIELD)
    if who and int(who) != head:
        return SourceKind.PERSONAL_CHANNEL
    return SourceKind.SHARED_MAILBOX


def has_min_data(record: dict, naming: Any) -> bool:
    """Dimensions, site and purpose (the Object key) and a way to reach the client."""
    keys = keys_of(record, "lead", naming)
    reachable = bool(comms(record, "PHONE") or comms(record, "EMAIL"))
    return keys is not None and keys.is_complete and reachable


def _table(ctx: RuleContext) -> list:
    rows = ctx.settings.get("routing_table") or []
    try:
        rules = [rule_from_dict(r) for r in rows if isinstance(r, dict)]
    except ValueProblem:
        return []
    return [] if validate_table(rules) else rules


def _area(record: dict):
    value = area_of(record, "lead")
    try:
        return None if value in (None, "") else parse_number(value, "Площадь")
    except ValueProblem:
        return None


def route_unprocessed(ctx: RuleContext) -> list[A.Action]:
    record = dict(ctx.record or {})
    rid = ctx.change.record_id
    head = int(ctx.settings.get("head_of_sales_id") or 1)
    current = record.get(RESPONSIBLE_FIELD)
    client = ctx.related.get(CLIENT)
    decision = decide_unprocessed(
        UnprocessedLead(
            source_kind=source_kind(record, head, ctx.settings.get("shared_mailboxes")),
            has_min_data=has_min_data(record, ctx.schema),
            head_of_sales_id=head,
            responsible_id=int(current) if current else None,
            client_responsible_id=int(client["responsible"]) if client else None,
        )
    )
    who, stage, reason = decision.responsible_id, decision.stage, decision.reason
    by_table, complete = None, False
    if client is None and who == head:
        table = _table(ctx)
        facts = RoutingFacts(
            region=record.get("UF_CRM_MT_REGION"),
            area_m2=_area(record),
            source=record.get("sourceId"),
            responsible_id=int(current) if current else None,
            responsible_position=(ctx.related.get(RESPONSIBLE_USER) or {}).get("WORK_POSITION"),
        )
        by_table = route(table, facts) if table else None
        if by_table is not None:
            who, reason = by_table.responsible_id, by_table.reason
            complete = stage == DATA_COMPLETE
            stage = by_table.stage
    out: list[A.Action] = []
    if who is not None and (not current or int(current) != int(who)):
        out.append(A.UpdateFields("lead", rid, {RESPONSIBLE_FIELD: int(who)}, key="who"))
    target = stage_code("metal", stage) if stage else None
    if target and target != record.get(STAGE_FIELD):
        out.append(A.MoveStage("lead", rid, target, key="stage"))
    out.append(A.TimelineComment("lead", rid, reason, key="why"))
    if target == DATA_COMPLETE_STAGE or (by_table is not None and complete):
        # a complete web form gets its Object checked before the table hands it over
        out += object_actions(ctx, record, responsible=who)
    return out


RULES = [
    Rule(
        "lead_routing",
        "lead",
        on_stage_entered(UNPROCESSED),
        route_unprocessed,
        needs=(CLIENT, CANDIDATES, RESPONSIBLE_USER),
    ),
]
