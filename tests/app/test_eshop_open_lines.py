"""eshop, pure: a deal created by an open-line chat becomes an order and gets what an order
created in the orders pipeline gets (same rules, same actions)."""

from __future__ import annotations

from app.playbooks.eshop import rules_via_open_lines as O
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import STAGE_ENTERED, Change, RuleContext
from app.sync.fetch import CLIENT_DEALS
from tests.app.test_eshop_clients import NOW, Schema


class OrdersSchema(Schema):
    def category(self, code):
        return {"eshop.orders": 3}[code]


CHAT = {"typeId": "IM", "valueType": "OPENLINE", "value": "imol|telegrambot|1|67|21"}


def ctx(record, contact=None, settings=None):
    change = Change("m", "deal", 7, STAGE_ENTERED, "c", after=record, stage_to=record["stageId"])
    related = {"contacts": [contact] if contact else [], CLIENT_DEALS: []}
    merged = {**defaults("eshop"), **(settings or {})}
    return RuleContext(change, record, related, merged, OrdersSchema(), NOW)


def deal(**extra):
    return {"id": 7, "title": "Заказ из Telegram", "stageId": "NEW", "categoryId": 0,
            "assignedById": 3, "contactId": 40, **extra}  # fmt: skip


def test_an_open_line_deal_moves_to_the_orders_and_gets_the_new_orders_actions():
    got = O.on_new_deal(ctx(deal(), contact={"id": 40, "fm": [CHAT]}))
    move = got[0]
    assert isinstance(move, A.UpdateFields)
    assert move.fields == {"categoryId": 3, "stageId": "eshop.order.new"}
    # what the eshop rules give an order created in «Новый заказ»: the stage limit timer…
    timers = [a for a in got if isinstance(a, A.StartTimer)]
    assert [t.payload["stage"] for t in timers] == ["eshop.order.new"]
    # …and the returning-buyer flag (a client without purchases: a new buyer)
    flags = [a for a in got if isinstance(a, A.UpdateFields) and "UF_CRM_ES_RETURNING" in a.fields]
    assert flags and flags[0].fields["UF_CRM_ES_RETURNING"] is False
    keys = [a.key for a in got]
    assert len(keys) == len(set(keys))  # every action its own idempotency slot


def test_the_source_setting_also_marks_an_order_and_other_deals_are_left_alone():
    by_source = O.on_new_deal(ctx(deal(sourceId="OPENLINE", contactId=0)))
    assert by_source[0].fields["stageId"] == "eshop.order.new"
    custom = {"open_line_sources": ["3|WHATSAPP"]}
    assert O.on_new_deal(ctx(deal(sourceId="3|WHATSAPP", contactId=0), settings=custom))
    assert O.on_new_deal(ctx(deal(sourceId="WEB"), contact={"id": 40, "fm": []})) == []
    already = deal(stageId="eshop.order.new", sourceId="OPENLINE")
    assert O.on_new_deal(ctx(already)) == []  # created in the orders pipeline: the rules run anyway
