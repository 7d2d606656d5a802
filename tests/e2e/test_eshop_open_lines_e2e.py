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
