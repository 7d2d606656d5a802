"""E2E furniture (seed 000): the hand-off to the city's store, refusal reasons required, the
client messages (MessageClient, recorded on the deal's timeline as ``[sms] …``) when
manufacturing is behind and when the goods are in store, and the auto-win counted from the
delivery date — against the emulator with the real installer, our app receiving
the portal's events and a real worker; timers fired with a manual clock. The portal's
state is read back through REST after each step.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e._metal_world import MetalWorld, portal_world

LEAD, DEAL = 1, 2
CONSULTANT, ADMIN = 4, 5


@pytest.fixture
def world(tmp_path, redis_url):
    settings = {"furniture": {"city_admins": {"Москва": ADMIN}, "online_consultant_id": CONSULTANT}}
    yield from portal_world(
        tmp_path, redis_url, playbooks=["furniture"], world_class=MetalWorld, settings=settings
    )


def update(w, etid, record_id, user_id=CONSULTANT, **fields):
    named = {w.uf("lead" if etid == LEAD else "deal", k) if k.startswith("UF_") else k: v
             for k, v in fields.items()}  # fmt: skip
    body = {"entity_type_id": etid, "id": record_id, "fields": named, "user_id": user_id}
    w.emu.admin.post("crm/update", body)
    w.settle()


def test_handoff_refusals_and_deal_sms(world):
    w = world
    from app.store.timers import Timer
    from app.timers.clock import fire_due_inline
    from app.timers.clocks import ManualClock

    # 1. the consultant learns the client will visit the Moscow store: the lead goes to its
    # administrator and the store escalation starts for them
    lid = w.lead_from("manual", title="Диван", user_id=CONSULTANT)
    w.settle()
    assert int(w.item(LEAD, lid)["assignedById"]) == CONSULTANT
    update(w, LEAD, lid, UF_CRM_FR_CITY="москва", UF_CRM_FR_VISIT_DATE="2026-12-20")
    assert int(w.item(LEAD, lid)["assignedById"]) == ADMIN
    with w.services.session() as s:
        kinds = {t.kind for t in s.query(Timer).filter_by(record_id=lid, state="pending")}
    assert "furniture.store_escalation" in kinds

    # 2. closed as «Некачественный лид» without a reason: back to «Новый лид», told why
    w.move(LEAD, lid, "furniture.lead.low_quality", "lead", user_id=ADMIN)
    w.settle()
    assert w.item(LEAD, lid)["stageId"] == w.stage("lead", "furniture.lead.new")
    assert any("«Причина отказа»" in n for n in w.notifications(ADMIN))

    # 3. a deal in manufacturing due in 10 days: still being made a week before, so the
    # client hears it may be late; then the date moves and the client hears both dates
    due = (datetime.now(UTC) + timedelta(days=10)).date()
    phone = [{"typeId": "PHONE", "valueType": "MOBILE", "value": "+79161112233"}]
    client = w.add(3, {"name": "Ольга", "fm": phone}, user_id=ADMIN)
    fields = {
        "title": "Шкаф-купе",
        "contactId": client,
        "categoryId": w.naming.category("furniture.sales"),
        "stageId": w.stage("deal", "furniture.deal.manufacturing"),
        "assignedById": ADMIN,
        w.uf("deal", "UF_CRM_FR_DUE_DATE"): due.isoformat(),
    }
    did = w.add(DEAL, fields, user_id=ADMIN)
    w.settle()
    assert not w.sms.received
    fire_due_inline(w.services, ManualClock(datetime.now(UTC) + timedelta(days=4)))
    w.settle()
    (told,) = w.sms.texts("79161112233")  # the deal's client, by SMS through the gateway
    assert f"{due:%d.%m.%Y}" in told and "может не успеть" in told
    later = due + timedelta(days=14)
    update(w, DEAL, did, user_id=ADMIN, UF_CRM_FR_DUE_DATE=later.isoformat())
    w.settle()
    moved = [t for t in w.sms.texts("79161112233") if "перенесён" in t]
    assert len(moved) == 1 and f"{due:%d.%m.%Y}" in moved[0] and f"{later:%d.%m.%Y}" in moved[0]

    # 4. the goods reach the store: the in-store SMS
    w.move(DEAL, did, "furniture.deal.in_store", "deal", user_id=ADMIN)
    w.settle()
    assert "готов к выдаче" in w.sms.texts("79161112233")[-1]

    # 5. «Сделка сорвана» without a reason is undone; with one it stays
    w.move(DEAL, did, "furniture.deal.lost", "deal", user_id=ADMIN)
    w.settle()
    assert w.item(DEAL, did)["stageId"] == w.stage("deal", "furniture.deal.in_store")
    reason = w.naming.enum_id("UF_CRM_FR_REFUSAL", "price", entity="deal")
    update(w, DEAL, did, user_id=ADMIN, UF_CRM_FR_REFUSAL=reason)
    w.move(DEAL, did, "furniture.deal.lost", "deal", user_id=ADMIN)
    w.settle()
    assert w.item(DEAL, did)["stageId"] == w.stage("deal", "furniture.deal.lost")


def test_delivery_wins_three_days_after_the_delivery_date(world):
    """Seed 000: «Через 3 дня после самовывоза или доставки … Успешная»: counted from «Дата
    доставки/выдачи» (re-planned when it moves), not from entering «Доставка/Оплата»."""
    w = world
    from app.timers.clock import fire_due_inline
    from app.timers.clocks import ManualClock

    now = datetime.now(UTC)
    fields = {
        "title": "Стол",
        "categoryId": w.naming.category("furniture.sales"),
        "stageId": w.stage("deal", "furniture.deal.delivery"),
        "assignedById": ADMIN,
    }
    did = w.add(DEAL, fields, user_id=ADMIN)
    w.settle()
    # 6. no date yet: the responsible is asked for it, and the deal is not won after 3 days
    assert any("«Дата доставки/выдачи»" in n for n in w.notifications(ADMIN))
    fire_due_inline(w.services, ManualClock(now + timedelta(days=4)))
    w.settle()
    assert w.item(DEAL, did)["stageId"] == w.stage("deal", "furniture.deal.delivery")
    # 7. delivered in 5 days, then moved to 7: the plan for day 5 does nothing
    update(
        w,
        DEAL,
        did,
        user_id=ADMIN,
        UF_CRM_FR_DELIVERED_AT=(now + timedelta(days=5)).date().isoformat(),
    )
    update(
        w,
        DEAL,
        did,
        user_id=ADMIN,
        UF_CRM_FR_DELIVERED_AT=(now + timedelta(days=7)).date().isoformat(),
    )
    fire_due_inline(w.services, ManualClock(now + timedelta(days=9)))
    w.settle()
    assert w.item(DEAL, did)["stageId"] == w.stage("deal", "furniture.deal.delivery")
    # 8. three days after the delivery it is won
    fire_due_inline(w.services, ManualClock(now + timedelta(days=11)))
    w.settle()
    assert w.item(DEAL, did)["stageId"] == w.stage("deal", "furniture.deal.won")


def test_a_contract_converts_the_lead_into_a_furniture_sales_deal(world):
    """Seed 000: «Заключение договора» — the client is ready to order: a contact and a deal
    in «Продажи мебели» (the portal's own conversion is not needed)."""
    w = world
    lid = w.lead_from("manual", title="Кухня Петровых", name="Ольга", phone="+79001234567",
                      user_id=CONSULTANT)  # fmt: skip
    w.settle()
    w.move(LEAD, lid, "furniture.lead.contract", "lead", user_id=CONSULTANT)
    w.settle()
    deals = [d for d in w.items(DEAL) if int(d.get("leadId") or 0) == lid]
    assert len(deals) == 1
    assert int(deals[0]["categoryId"]) == w.naming.category("furniture.sales")
    assert deals[0]["stageId"] == w.stage("deal", "furniture.deal.new")
    assert int(deals[0].get("contactId") or 0) > 0


def test_a_web_lead_goes_to_the_consultant_and_a_visitor_gets_the_months_texts(world):
    """Seed 000: leads arriving by themselves belong to the online consultant; after a store
    visit the client gets the month's reminders and offers, each its own text."""
    w = world
    from app.timers.clock import fire_due_inline
    from app.timers.clocks import ManualClock

    lid = w.lead_from("webform", title="Шкаф с сайта", phone="+79005554433")
    w.settle()
    assert int(w.item(LEAD, lid)["assignedById"]) == CONSULTANT
    w.move(LEAD, lid, "furniture.lead.visited", "lead", user_id=CONSULTANT)
    w.settle()
    now = datetime.now(UTC)
    fire_due_inline(w.services, ManualClock(now + timedelta(days=4)))
    w.settle()
    first = [c for c in w.comments("lead", lid) if c.startswith("[sms]")]
    assert len(first) == 1 and "Спасибо, что заглянули" in first[0]
    fire_due_inline(w.services, ManualClock(now + timedelta(days=11)))
    w.settle()
    sms = [c for c in w.comments("lead", lid) if c.startswith("[sms]")]
    assert len(sms) == 2 and sum("спецпредложение" in c for c in sms) == 1
