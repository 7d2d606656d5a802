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


class LeadSchema(OrdersSchema):
    def stage_id(self, entity, code):
        if (entity, code) == ("lead", "metal.lead.converted"):
            return "CONVERTED"
        raise KeyError(code)


def lead_ctx(record, schema=None, before=None):
    from app.rules.model import CREATED

    change = Change("m", "lead", 9, CREATED, "created", before=before, after=record)
    merged = {**defaults("eshop"), "lead_claims": ["line:telegrambot|1"]}
    return RuleContext(change, record, {}, merged, schema or LeadSchema(), NOW)


def test_an_open_line_lead_becomes_an_order_deal_that_its_add_event_runs_through_the_rules():
    """#17: a new lead from eshop's open line → a deal in «Новый заказ» of the orders
    pipeline with the lead's client, created so that its ADD event runs the eshop rules
    (``run_rules``), the lead noted and marked converted."""
    lead = {"id": 9, "title": "Хочу заказать", "name": "Олег", "assignedById": 3,
            "sourceId": "OPENLINE", "fm": [CHAT, {"typeId": "PHONE", "value": "+79001234567"}]}  # fmt: skip
    got = O.lead_as_order(lead_ctx(lead))
    deal = got[0]
    assert isinstance(deal, A.CreateRecord) and deal.entity == "deal" and deal.run_rules
    assert deal.fields["categoryId"] == 3 and deal.fields["stageId"] == "eshop.order.new"
    assert deal.fields["leadId"] == 9 and deal.fields["assignedById"] == 3
    contact = next(a for a in got if isinstance(a, A.CreateRecord) and a.entity == "contact")
    assert contact.fields["fm"] == [
        {"typeId": "PHONE", "valueType": "WORK", "value": "+79001234567"}
    ]
    assert [a.stage for a in got if isinstance(a, A.MoveStage)] == ["metal.lead.converted"]
    assert any(isinstance(a, A.TimelineComment) and a.entity == "lead" for a in got)
    keys = [a.key for a in got]
    assert len(keys) == len(set(keys))


def test_only_a_new_open_line_lead_and_only_with_the_orders_pipeline():
    chat_lead = {"id": 9, "title": "x", "fm": [CHAT]}
    assert O.lead_as_order(lead_ctx(chat_lead, before={"id": 9})) == []  # not new
    assert O.lead_as_order(lead_ctx({"id": 9, "title": "x", "sourceId": "WEBFORM"})) == []

    class NoOrders(LeadSchema):
        def category(self, code):
            raise KeyError(code)

    assert O.lead_as_order(lead_ctx(chat_lead, schema=NoOrders())) == []

    # no lead playbook maps a success stage: the order is made, the lead stays where it is
    class NoLeadStages(OrdersSchema):
        def stage_id(self, entity, code):
            return code  # as the portal's naming does for a code it does not map

    bare = O.lead_as_order(lead_ctx(chat_lead, schema=NoLeadStages()))
    assert bare[0].run_rules and not [a for a in bare if isinstance(a, A.MoveStage)]
