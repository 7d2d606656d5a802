"""Eshop (seed 004: «в CRM пришел заказ из онлайн-магазина»): incoming orders land in
«Заказы интернет-магазина».

A new deal in the general pipeline whose source («Источник», ``sourceId``) is one of
``order_sources`` (default ``["STORE"]``, Bitrix24's «Интернет-магазин»; add ``WEB``,
``WEBFORM``, ``CALL``… to route those too) is moved to the orders pipeline, stage «Новый
заказ», with a timeline note. Deals of other pipelines (another playbook's) are left alone.
Our own move does not come back as a change, so the work a new order gets on entering
«Новый заказ» — its time limit, its hint task, the returning-buyer mark — is done here too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from app.playbooks.eshop.rules_clients import _DEAL_NEEDS, mark_returning
from app.playbooks.eshop.rules_hints import hint_task
from app.playbooks.eshop.rules_stage_limits import start_limit
from app.rules import actions as A
from app.rules.model import STAGE_FIELD, Rule, RuleContext, on_created

PIPELINE = "eshop.orders"
NEW = "eshop.order.new"
GENERAL = (None, "", 0, "0")


def _sources(ctx: RuleContext) -> set[str]:
    listed = ctx.settings.get("order_sources") or []
    if isinstance(listed, str):
        listed = [listed]
    return {str(s).strip().upper() for s in listed if str(s).strip()}


def _prefixed(name: str, actions: list[A.Action]) -> list[A.Action]:
    """Keys of a reused rule's actions, kept apart from this rule's own."""
    return [
        dataclasses.replace(a, key=f"{name}:{a.slot(i)}")  # type: ignore[call-arg]
        for i, a in enumerate(actions)
    ]


def take_order(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    if record.get("categoryId") not in GENERAL:
        return []
    if str(record.get("sourceId") or "").strip().upper() not in _sources(ctx):
        return []
    try:
        category = ctx.schema.category(PIPELINE)
    except KeyError:
        return []  # the pipeline is not installed (yet): nothing to route into
    rid = ctx.change.record_id
    note = "Заказ из источника «{}» перенесён в «Заказы интернет-магазина».".format(
        record.get("sourceId")
    )
    moved = dataclasses.replace(ctx, record={**record, "categoryId": category, STAGE_FIELD: NEW})
    out: list[A.Action] = [
        A.UpdateFields("deal", rid, {"categoryId": category, STAGE_FIELD: NEW}, key="intake"),
        A.TimelineComment("deal", rid, note, key="intake_note"),
    ]
    steps: tuple[tuple[str, Callable[[RuleContext], list[A.Action]]], ...] = (
        ("limit", start_limit),
        ("hint", hint_task),
        ("returning", mark_returning),
    )
    for name, decide in steps:
        out += _prefixed(name, decide(moved))
    return out


# takes_unowned: a deal in the general pipeline belongs to no playbook until this rule
# moves it into «Заказы интернет-магазина» (app.rules.ownership.may_act)
RULES = [
    Rule("order_intake", "deal", on_created(), take_order, needs=_DEAL_NEEDS, takes_unowned=True)
]
