"""eshop (seed 004 item 8, spec §5 rule 10): orders from messengers arrive through open lines
and run through the same rules as any other order — as deals (below) and as leads
(:func:`lead_as_order`: a lead from an open line eshop claims becomes an order deal).

A deal created by an open-line chat lands in whatever pipeline the open line is set to fill
(usually the general one), where the eshop rules do not act. This rule recognises it — its
source is one of ``open_line_sources`` (the open lines' source codes, «OPENLINE» by
default; the portal's source list shows the others) or its contact was reached through an
open line (an IM value of type OPENLINE/IMOL, ``imol|…``: api-reference/crm/leads/
crm-lead-get.md) — moves it into «Заказы интернет-магазина» as a new order and, in the same
decision, runs the eshop rules on it exactly as they run on an order created there (the
app's own move does not come back to its rules as an event, so they are run here).

The module's name sorts after the other eshop rule modules on purpose: on one change, rules
decide (and their actions apply) in module order, and the stage-limit rule's own decision on
the original stage cancels the deal's limit timer — this rule's new timer must follow it.
"""

from __future__ import annotations

from dataclasses import replace

from app.playbooks.conversion import lead_to_deal
from app.playbooks.eshop import rules_clients, rules_hints, rules_stage_limits
from app.playbooks.lead_owner import open_lines
from app.rules import actions as A
from app.rules.model import (
    CREATED,
    STAGE_ENTERED,
    STAGE_FIELD,
    Rule,
    RuleContext,
    on_created,
    on_stage_entered,
)

NEW = "eshop.order.new"
PIPELINE = "eshop.orders"
OPEN_LINE_TYPES = ("OPENLINE", "IMOL")
SAME_RULES = [
    r
    for m in (rules_clients, rules_hints, rules_stage_limits)
    for r in m.RULES
    if r.entity == "deal"
]
NEEDS = tuple(sorted({n for r in SAME_RULES for n in r.needs} | {"contacts"}))


def _open_line_contact(contact) -> bool:
    for value in (contact or {}).get("fm") or []:
        if not isinstance(value, dict) or value.get("typeId") != "IM":
            continue
        if str(value.get("valueType") or "").upper() in OPEN_LINE_TYPES:
            return True
        if str(value.get("value") or "").startswith("imol|"):
            return True
    return False


def from_open_line(ctx: RuleContext) -> bool:
    record = ctx.record or {}
    sources = {str(s).upper() for s in ctx.settings.get("open_line_sources") or ("OPENLINE",)}
    if str(record.get("sourceId") or "").upper() in sources:
        return True
    contact_id = str(record.get("contactId") or "")
    contacts = ctx.related.get("contacts") or []  # the deal's contacts, as read (a list)
    contact = next((c for c in contacts if str(c.get("id")) == contact_id), None)
    return contact_id not in ("", "0") and _open_line_contact(contact)


def as_order(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    if str(record.get(STAGE_FIELD) or "").startswith("eshop.order.") or not from_open_line(ctx):
        return []
    try:
        category = ctx.schema.category(PIPELINE)
    except KeyError:
        return []  # the orders pipeline is not installed
    rid = ctx.change.record_id
    fields = {"categoryId": category, STAGE_FIELD: NEW}
    order = {**record, **fields}
    out: list[A.Action] = [
        A.UpdateFields("deal", rid, fields, key="to_orders"),
        A.TimelineComment(
            "deal", rid, "Заказ из мессенджера (открытая линия) переведён в «Заказы "
            "интернет-магазина».", key="note",
        ),
    ]  # fmt: skip
    for kind in (CREATED, STAGE_ENTERED):
        change = replace(ctx.change, kind=kind, stage_from=None, stage_to=NEW, after=order,
                         stage_from_codes=frozenset(), stage_to_codes=frozenset({NEW}))  # fmt: skip
        sub = RuleContext(change, order, ctx.related, ctx.settings, ctx.schema, ctx.now)
        for rule in SAME_RULES:
            if not rule.trigger.matches(change):
                continue
            for i, action in enumerate(rule.decide(sub) or ()):
                # each action keeps its own idempotency slot, under the rule that made it
                out.append(replace(action, key=f"{rule.name}:{action.key or i}"))
    return out


def on_new_deal(ctx: RuleContext) -> list[A.Action]:
    """A new deal (its first stage entered, ``before`` None): the stage change, not the
    ``created`` one, so that this rule decides after the other eshop rules on the same change
    (module order) and its limit timer follows their cancel of the original stage's."""
    return as_order(ctx) if ctx.change.before is None else []


CONVERTED_STATUS = "CONVERTED"
LEAD_NOTE = "Лид из мессенджера (открытая линия) оформлен заказом в «Заказы интернет-магазина»."


def from_open_line_lead(ctx: RuleContext) -> bool:
    """The lead came through an open line: its source is one of ``open_line_sources`` or it
    carries an open-line messenger value (``imol|…``, api-reference/crm/leads/
    crm-lead-get.md)."""
    record = ctx.record or {}
    sources = {str(s).upper() for s in ctx.settings.get("open_line_sources") or ("OPENLINE",)}
    return str(record.get("sourceId") or "").upper() in sources or bool(open_lines(record))


def _converted_stage(schema) -> str | None:
    """A stable code of the lead list's success stage (``CONVERTED``) this portal maps —
    the lead playbooks installed share it; None on a portal with no lead playbook."""
    from app.playbooks import NAMES, load

    for name in NAMES:
        for stage in load(name).lead_stages:
            if stage.status_id != CONVERTED_STATUS:
                continue
            try:
                raw = schema.stage_id("lead", stage.code)
            except (AttributeError, KeyError, ValueError):
                continue
            if raw and raw != stage.code:  # the naming passes an unmapped code through
                return stage.code
    return None


def lead_as_order(ctx: RuleContext) -> list[A.Action]:
    """A new lead from eshop's open line (the engine runs eshop's rules on a lead only when
    eshop's ``lead_claims`` name its line: ``app.playbooks.lead_owner``) becomes an order:
    a deal in «Новый заказ» of «Заказы интернет-магазина» with the lead's client, created so
    that its ADD event runs the eshop rules exactly as for an order created there
    (``CreateRecord.run_rules``); the lead is marked converted where the lead list has a
    success stage, and says where its order went."""
    if ctx.change.before is not None or not from_open_line_lead(ctx):
        return []
    actions = lead_to_deal(ctx, PIPELINE, NEW)
    if not actions:
        return []  # the orders pipeline is not installed
    deal, *client = actions
    rid = ctx.change.record_id
    out: list[A.Action] = [
        replace(deal, run_rules=True),
        *client,
        A.TimelineComment("lead", rid, LEAD_NOTE, key="lead_note"),
    ]
    converted = _converted_stage(ctx.schema)
    if converted:
        out.append(A.MoveStage("lead", rid, converted, key="converted"))
    return out


# takes_unowned: an open-line deal in the general pipeline is nobody's until this rule moves
# it into «Заказы интернет-магазина» (app.rules.ownership.may_act)
RULES = [
    Rule(
        "open_line_order",
        "deal",
        on_stage_entered(),
        on_new_deal,
        needs=NEEDS,
        takes_unowned=True,
    ),
    Rule("open_line_lead_order", "lead", on_created(), lead_as_order),
]
