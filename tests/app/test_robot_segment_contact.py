"""segment_contact on a portal the real installer set up (eshop), through the HTTP handler
and the job, answered on the emulator: the contact's segment, orders and total."""

import pytest

from app.sync.context import portal_context
from tests.app._robots_world import build_world, install, run_robot


@pytest.fixture
def world(emulator, make_services, redis_url):
    w = build_world(emulator, make_services, playbooks=("eshop",))
    install(w, ("eshop",))  # fields, the orders pipeline and the eshop robots
    w.naming = portal_context(w.services, w.member_id).naming
    return w


def _add(w, etid, **fields):
    return w.rest("crm.item.add", {"entityTypeId": etid, "fields": fields})["item"]["id"]


def _order(w, contact, amount, code):
    fields = {
        "title": f"Заказ {amount}",
        "categoryId": w.naming.category("eshop.orders"),
        "stageId": w.naming.stage_id("deal", code),
        "contactId": contact,
        "opportunity": amount,
    }
    return _add(w, 2, **fields)


def _run(w, etid, item_id):
    return run_robot(w, "segment_contact", etid, item_id)


def test_the_installer_registers_the_robot(world):
    assert "segment_contact" in world.rest("bizproc.robot.list")


def test_on_a_deal_it_segments_the_deals_contact_and_writes_only_changes(world):
    w = world
    uf = lambda code: w.naming.field_name("contact", code)  # noqa: E731
    contact = _add(w, 3, name="Ирина")
    first = _order(w, contact, 1200, "eshop.order.received")
    _order(w, contact, 800.5, "eshop.order.received")
    _order(w, contact, 5000, "eshop.order.cancelled")
    run = _run(w, 2, first)
    assert run["return_values"] == {
        "segment": "Активный",
        "segment_code": "active",
        "orders": 2,
        "orders_sum": 2000.5,
        "error": "",
    }
    card = w.item(3, contact)
    assert int(card[uf("UF_CRM_ES_ORDERS")]) == 2
    assert float(card[uf("UF_CRM_ES_ORDERS_SUM")]) == 2000.5
    active = w.naming.enum_id("UF_CRM_ES_SEGMENT", "active", entity="contact")
    assert int(card[uf("UF_CRM_ES_SEGMENT")]) == active
    # run again on the contact itself: the same answer, nothing written
    before = card["updatedTime"]
    again = _run(w, 3, contact)
    assert again["return_values"]["segment_code"] == "active"
    assert w.item(3, contact)["updatedTime"] == before


def test_a_deal_without_a_contact_or_a_lead_is_an_error_answer(world):
    w = world
    lonely = _add(w, 2, title="Без клиента", categoryId=w.naming.category("eshop.orders"))
    assert "нет контакта" in _run(w, 2, lonely)["return_values"]["error"]
    lead = _add(w, 1, title="Лид")
    assert "сделках и контактах" in _run(w, 1, lead)["return_values"]["error"]
