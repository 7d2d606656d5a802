"""E2E eshop (seed 004 item 8): an order written in a messenger arrives through an open line
as a deal in the general pipeline; the app recognises it, moves it into «Заказы
интернет-магазина» and the order rules act on it (the stage's time limit, the new-buyer
mark) — against the emulator with the real installer, our app receiving the portal's events
and a real worker; the portal's state is read back through REST.

Docs: api-reference/crm/leads/crm-lead-get.md (an open-line client: IM of VALUE_TYPE
OPENLINE, value ``imol|…``), api-reference/crm/universal/crm-item-update.md (categoryId).
"""

from __future__ import annotations

import pytest

from tests.e2e._metal_world import MetalWorld, portal_world

DEAL, CONTACT = 2, 3
MANAGER = 3


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["eshop"], world_class=MetalWorld)


def pending_timers(w, deal_id):
    from app.store.timers import Timer

    with w.services.session() as s:
        return [(t.kind, t.payload.get("stage")) for t in s.query(Timer)
                if t.record_id == deal_id and t.state == "pending"]  # fmt: skip


def test_an_open_line_deal_becomes_an_order_and_runs_the_order_rules(world):
    w = world
    chat = {"typeId": "IM", "valueType": "OPENLINE", "value": "imol|telegrambot|1|67|21"}
    client = w.add(CONTACT, {"name": "Олег", "fm": [chat]})
    w.settle()
    deal = w.add(DEAL, {"title": "Заказ из Telegram", "categoryId": 0, "contactId": client,
                        "assignedById": MANAGER})  # fmt: skip
    other = w.add(DEAL, {"title": "Обычная сделка", "categoryId": 0, "assignedById": MANAGER})
    w.settle()
    got = w.item(DEAL, deal)
    assert int(got["categoryId"]) == w.naming.category("eshop.orders")
    assert got["stageId"] == w.stage("deal", "eshop.order.new")
    assert any("открытая линия" in c for c in w.comments("deal", deal))
    assert pending_timers(w, deal) == [("eshop.stage_limit", "eshop.order.new")]
    assert got[w.uf("deal", "UF_CRM_ES_RETURNING")] in (False, "N", 0, "0")
    # a deal that did not come from an open line stays where it was
    assert int(w.item(DEAL, other)["categoryId"]) == 0 and pending_timers(w, other) == []


@pytest.fixture
def shared(tmp_path, redis_url):
    """metal runs the lead list; eshop claims the Telegram line «3» (its lead_claims)."""
    settings = {"eshop": {"lead_claims": ["line:telegrambot|3"]}}
    yield from portal_world(
        tmp_path, redis_url, playbooks=["metal", "eshop"], world_class=MetalWorld,
        settings=settings,
    )  # fmt: skip


def test_an_open_line_lead_in_eshops_line_becomes_an_order_and_runs_the_order_rules(shared):
    """#17: a lead created by eshop's open line becomes an order the way an open-line deal
    does: a deal in «Новый заказ» of «Заказы интернет-магазина» that the order rules act on
    (its time limit, the new-buyer mark); the lead is converted and noted, and metal's
    rules leave it alone. A lead from another line stays metal's."""
    w = shared
    tg = {"typeId": "IM", "valueType": "OPENLINE", "value": "imol|telegrambot|3|67|21"}
    lead = w.add(1, {"title": "Заказ из Telegram", "name": "Олег", "sourceId": "OPENLINE",
                     "assignedById": MANAGER, "fm": [tg]})  # fmt: skip
    chat = {"typeId": "IM", "valueType": "OPENLINE", "value": "imol|livechat|1|5|2"}
    other = w.add(1, {"title": "Вопрос в чате", "name": "Анна", "sourceId": "OPENLINE",
                      "assignedById": MANAGER, "fm": [chat]})  # fmt: skip
    w.settle()

    (order,) = [d for d in w.items(DEAL) if int(d.get("leadId") or 0) == lead]
    assert int(order["categoryId"]) == w.naming.category("eshop.orders")
    assert order["stageId"] == w.stage("deal", "eshop.order.new")
    assert int(order["assignedById"]) == MANAGER and int(order["contactId"] or 0)
    # the order rules ran on it, as on an order created in the pipeline
    assert pending_timers(w, int(order["id"])) == [("eshop.stage_limit", "eshop.order.new")]
    assert order[w.uf("deal", "UF_CRM_ES_RETURNING")] in (False, "N", 0, "0")
    card = w.item(1, lead)
    assert card["stageId"] == w.stage("lead", "metal.lead.converted")
    assert card["title"] == "Заказ из Telegram"  # metal's title template did not run
    assert any("оформлен заказом" in c for c in w.comments("lead", lead))

    # another line's lead is metal's: no order, metal's title template named it
    assert not [d for d in w.items(DEAL) if int(d.get("leadId") or 0) == other]
    assert w.item(1, other)["title"] != "Вопрос в чате"
