"""E2E eshop (seed 004): stage hint tasks, returning buyers, orders per client, segments.

The emulator, the real installer (eshop), our Flask app receiving the portal's events, a
real RQ worker; the segment re-check timer fired with a manual clock. The portal's state is
read back through REST after each step.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e._metal_world import MetalWorld, portal_world

DEAL, CONTACT = 2, 3
MANAGER = 3


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["eshop"], world_class=MetalWorld)


def order(w, contact_id, amount, title):
    category = w.naming.category("eshop.orders")
    fields = {
        "title": title,
        "categoryId": category,
        "stageId": w.stage("deal", "eshop.order.new"),
        "contactId": contact_id,
        "opportunity": amount,
        "assignedById": MANAGER,
    }
    deal_id = w.add(DEAL, fields, user_id=MANAGER)
    w.settle()
    return deal_id


def move(w, deal_id, code):
    w.move(DEAL, deal_id, code, "deal", user_id=MANAGER)
    w.settle()


def tasks_of(w, deal_id):
    rows = w.rest(
        "tasks.task.list",
        {"filter": {"UF_CRM_TASK": f"D_{deal_id}"}, "select": ["ID", "TITLE", "RESPONSIBLE_ID"]},
    )["tasks"]
    return [(t["title"], int(t["responsibleId"])) for t in rows]


def test_orders_make_a_client_returning_counted_and_segmented(world):
    w = world
    uf = lambda entity, code: w.uf(entity, code)  # noqa: E731
    segment = lambda code: w.naming.enum_id("UF_CRM_ES_SEGMENT", code, entity="contact")  # noqa: E731
    contact = w.add(CONTACT, {"name": "Ирина", "lastName": "Петрова"})
    w.settle()

    # 1. the first order: a new buyer; confirmed → the stage's hint as a task
    first = order(w, contact, 2500, "Заказ 1")
    assert w.item(DEAL, first)[uf("deal", "UF_CRM_ES_RETURNING")] in ("N", False, "0", 0)
    move(w, first, "eshop.order.confirmed")
    hints = tasks_of(w, first)
    assert [(t, who) for t, who in hints if t.startswith("Подтвердите адрес доставки")] == [
        ("Подтвердите адрес доставки: Заказ 1", MANAGER)
    ]

    # 2. received: one purchase on the contact, still «Новый»
    move(w, first, "eshop.order.received")
    card = w.item(CONTACT, contact)
    assert int(card[uf("contact", "UF_CRM_ES_ORDERS")]) == 1
    assert float(card[uf("contact", "UF_CRM_ES_ORDERS_SUM")]) == 2500
    assert int(card[uf("contact", "UF_CRM_ES_SEGMENT")]) == segment("new")

    # 3. the second order is a returning buyer's; received → two purchases, «Активный»
    second = order(w, contact, 4000, "Заказ 2")
    assert w.item(DEAL, second)[uf("deal", "UF_CRM_ES_RETURNING")] in ("Y", True, "1", 1)
    move(w, second, "eshop.order.received")
    card = w.item(CONTACT, contact)
    assert int(card[uf("contact", "UF_CRM_ES_ORDERS")]) == 2
    assert float(card[uf("contact", "UF_CRM_ES_ORDERS_SUM")]) == 6500
    assert int(card[uf("contact", "UF_CRM_ES_SEGMENT")]) == segment("active")

    # 4. a third order cancelled without a reason goes back; with one it stays cancelled
    # and changes no totals
    third = order(w, contact, 999, "Заказ 3")
    move(w, third, "eshop.order.cancelled")
    assert w.item(DEAL, third)["stageId"] == w.stage("deal", "eshop.order.new")
    assert any("«Причина отказа»" in n for n in w.notifications(MANAGER))
    reason = w.naming.enum_id("UF_CRM_ES_REFUSAL", "cheaper", entity="deal")
    w.emu.admin.post(
        "crm/update",
        {"entity_type_id": DEAL, "id": third, "user_id": MANAGER,
         "fields": {uf("deal", "UF_CRM_ES_REFUSAL"): reason}},
    )  # fmt: skip
    w.settle()
    move(w, third, "eshop.order.cancelled")
    assert w.item(DEAL, third)["stageId"] == w.stage("deal", "eshop.order.cancelled")
    assert int(w.item(CONTACT, contact)[uf("contact", "UF_CRM_ES_ORDERS")]) == 2

    # 5. 91 days without a purchase: the re-check timer moves the client to «Повторный»,
    # and 181 days to «Уснувший»
    from app.timers.clock import fire_due_inline
    from app.timers.clocks import ManualClock

    now = datetime.now(UTC)
    fired = fire_due_inline(w.services, ManualClock(now + timedelta(days=91)))
    assert any(f.get("rules") == ["eshop.segment_recheck"] for f in fired), fired
    w.settle()
    assert int(w.item(CONTACT, contact)[uf("contact", "UF_CRM_ES_SEGMENT")]) == segment("repeat")
    fire_due_inline(w.services, ManualClock(now + timedelta(days=181)))
    w.settle()
    assert int(w.item(CONTACT, contact)[uf("contact", "UF_CRM_ES_SEGMENT")]) == segment("lapsed")
    # 6. the lapsed client's manager gets a to-do to bring them back
    todos = w.rest("crm.activity.list", {"filter": {"OWNER_TYPE_ID": 3, "OWNER_ID": contact}})
    assert any("«Ирина Петрова» уснул" in a["SUBJECT"] for a in todos), todos


def test_an_online_store_order_lands_in_the_orders_pipeline(world):
    """Seed 004: «в CRM пришел заказ из онлайн-магазина» — a deal from the store's source
    in the general pipeline moves to «Заказы интернет-магазина», «Новый заказ»."""
    w = world
    fields = {"title": "Заказ №1042 с сайта", "sourceId": "STORE", "assignedById": MANAGER}
    deal_id = w.add(DEAL, fields, user_id=MANAGER)
    w.settle()
    got = w.item(DEAL, deal_id)
    assert int(got["categoryId"]) == w.naming.category("eshop.orders")
    assert got["stageId"] == w.stage("deal", "eshop.order.new")
    assert any("«Заказы интернет-магазина»" in c for c in w.comments("deal", deal_id))
    # a deal from another source stays where it was created
    other = w.add(DEAL, {"title": "Звонок", "sourceId": "CALL"}, user_id=MANAGER)
    w.settle()
    assert int(w.item(DEAL, other)["categoryId"] or 0) == 0


def test_payments_are_reported_and_an_unpaid_order_goes_overdue(world):
    """Seed 004 audit «Отсутствуют уведомления об оплатах»: «Оплата» follows «Оплачено»,
    the responsible hears of each payment and of an order unpaid after «Оплатить до»."""
    w = world
    from app.timers.clock import fire_due_inline
    from app.timers.clocks import ManualClock

    state = lambda code: w.naming.enum_id("UF_CRM_ES_PAYMENT", code, entity="deal")  # noqa: E731
    due = (datetime.now(UTC) + timedelta(days=2)).date()
    deal_id = order(w, None, 5000, "Заказ с оплатой")
    w.emu.admin.post(
        "crm/update",
        {"entity_type_id": DEAL, "id": deal_id, "user_id": MANAGER,
         "fields": {w.uf("deal", "UF_CRM_ES_PAY_DUE"): due.isoformat(),
                    w.uf("deal", "UF_CRM_ES_PAID"): 2000}},
    )  # fmt: skip
    w.settle()
    assert int(w.item(DEAL, deal_id)[w.uf("deal", "UF_CRM_ES_PAYMENT")]) == state("partial")
    assert any("2000 из 5000" in n for n in w.notifications(MANAGER))
    fire_due_inline(w.services, ManualClock(datetime.now(UTC) + timedelta(days=4)))
    w.settle()
    assert int(w.item(DEAL, deal_id)[w.uf("deal", "UF_CRM_ES_PAYMENT")]) == state("overdue")
    assert any("не оплачен к сроку" in n for n in w.notifications(MANAGER))
