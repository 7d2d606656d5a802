"""Eshop, pure: incoming orders routed into «Заказы интернет-магазина» (setting
``order_sources``) and no «Отменён» without «Причина отказа» (seed 004)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.playbooks.eshop import rules_intake, rules_refusal
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import CREATED, STAGE_ENTERED, Change, RuleContext
from app.sync.fetch import CLIENT_DEALS

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Schema:
    def stage_id(self, entity, code):
        return code

    def category(self, code):
        return {"eshop.orders": 7}[code]


def ctx(record, kind=CREATED, settings=None, related=None, **change):
    ch = Change("m", "deal", 15, kind, "c", after=record, **change)
    merged = {**defaults("eshop"), **(settings or {})}
    return RuleContext(ch, record, related or {}, merged, Schema(), NOW)


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def test_an_online_store_order_moves_into_the_orders_pipeline_with_its_first_stage_work():
    record = {"title": "Заказ №1042", "sourceId": "STORE", "categoryId": 0, "stageId": "NEW",
              "assignedById": 3, "contactId": 40}  # fmt: skip
    bought = [{"id": 2, "stageId": "eshop.order.received", "opportunity": 900}]
    out = rules_intake.take_order(ctx(record, related={CLIENT_DEALS: bought}))
    move = out[0]
    assert move == A.UpdateFields(
        "deal", 15, {"categoryId": 7, "stageId": "eshop.order.new"}, key="intake"
    )
    assert "«Заказы интернет-магазина»" in of(out, A.TimelineComment)[0].text
    # the new stage's 2-hour limit starts, and the client who bought before is returning
    (limit,) = of(out, A.StartTimer)
    assert limit.due_at == NOW + timedelta(hours=2) and limit.payload["stage"] == "eshop.order.new"
    assert any(u.fields == {"UF_CRM_ES_RETURNING": True} for u in of(out, A.UpdateFields))
    keys = [a.key for a in out]
    assert len(keys) == len(set(keys)) and all(keys)


def test_listed_sources_only_and_never_a_deal_of_another_pipeline():
    web = {"sourceId": "WEB", "categoryId": 0, "stageId": "NEW"}
    assert rules_intake.take_order(ctx(web)) == []
    routed = rules_intake.take_order(ctx(web, settings={"order_sources": ["store", "web"]}))
    assert routed[0].fields["categoryId"] == 7
    other = {"sourceId": "STORE", "categoryId": 3, "stageId": "C3:NEW"}
    assert rules_intake.take_order(ctx(other)) == []


def test_cancelled_without_a_reason_goes_back_and_the_responsible_is_told():
    record = {"stageId": "eshop.order.cancelled", "assignedById": 3, "title": "Заказ №1042"}
    c = ctx(record, kind=STAGE_ENTERED, stage_from="eshop.order.assembling",
            stage_to="eshop.order.cancelled")  # fmt: skip
    move, comment, note = rules_refusal.require_reason(c)
    assert move.stage == "eshop.order.assembling"
    assert "«Причина отказа»" in comment.text and "«Заказ №1042»" in comment.text
    assert note.user_ids == (3,)
    given = {**record, "UF_CRM_ES_REFUSAL": 501}
    assert rules_refusal.require_reason(ctx(given, kind=STAGE_ENTERED)) == []
    moved_on = {**record, "stageId": "eshop.order.new"}
    assert rules_refusal.require_reason(ctx(moved_on, kind=STAGE_ENTERED)) == []
