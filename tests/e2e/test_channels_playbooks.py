"""Each seed's client messages really go out, exactly once, on the channel the settings
choose — read where they arrive: the portal's sent log (``GET /_emu/sent``: e-mails of
activities, open-line and chat messages) and the fake SMS.ru gateway.

The emulator with our app installed through OAuth, the real installer, our Flask app over
HTTP receiving the portal's events, a real RQ worker; timers fired with a manual clock.
After each scenario every event the portal delivered is posted again and every fired timer
is fired again, three times: the counts do not move.

Docs: ``tutorials/crm/how-to-add-crm-objects/how-to-send-email.md`` (e-mail activity),
``api-reference/imopenlines/openlines/messages/imopenlines-crm-message-add.md``,
``api-reference/chats/messages/im-message-add.md``, ``api-reference/messageservice/index.md``
(why SMS goes through a gateway), ``.../activities/app-embedding/index.md`` (the SMS as the
app's activity on the record).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.e2e._metal_world import MetalWorld, portal_world

pytestmark = pytest.mark.e2e
LEAD, DEAL, CONTACT = 1, 2, 3


def fire_at(w, moment):
    from app.timers.clock import fire_due_inline
    from app.timers.clocks import ManualClock

    results = fire_due_inline(w.services, ManualClock(moment))
    w.settle()
    return results


def replay_everything(w, times=3):
    """Post every event delivery again and fire every fired timer again (at its own due
    time, as its redelivered job would run), ``times`` times."""
    from app.store.timers import Timer
    from app.timers.clocks import ManualClock
    from app.timers.jobs import fire

    deliveries = [d for d in w.emu.admin.get("deliveries", kind="event") if d.get("body")]
    with w.services.session() as s:
        fired = [(t.id, t.due_at) for t in s.query(Timer).filter_by(state="fired")]
    assert deliveries
    for n in range(times):
        for d in deliveries:
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            requests.post(d["url"], data=d["body"].encode(), headers=headers, timeout=30)
        for timer_id, due_at in fired:
            with w.services.session() as s:
                row = s.get(Timer, timer_id)
                row.state, row.claimed_by = "enqueued", f"replay-{n}"
                s.commit()
            clock = ManualClock(due_at + timedelta(minutes=5))
            fire(w.services, timer_id, f"replay-{n}", clock=clock)
        w.settle()


def sent_summary(w):
    return (
        sorted((m["to"][0], m["subject"], m["body"]) for m in w.sent("email")),
        sorted((r["to"], r["msg"]) for r in w.sms.received),
        sorted((m["dialog_id"], m["text"]) for m in w.sent("chat")),
    )


# -- metal ---------------------------------------------------------------------------------
@pytest.fixture
def metal(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["metal"], world_class=MetalWorld)


def test_metal_refusal_letters_and_both_deferred_reminders_by_email(metal):
    w = metal
    declined = w.lead_from("call", user_id=3, phone="+79005550001", email="one@client.ru")
    other = w.lead_from("call", user_id=3, phone="+79005550002", email="two@client.ru")
    w.settle()
    w.move(LEAD, declined, "metal.lead.declined", "lead")
    w.move(LEAD, other, "metal.lead.not_our_product", "lead")
    w.settle()
    letters = {m["to"][0]: m for m in w.sent("email")}
    assert letters["one@client.ru"]["subject"] == "Ответ на ваш запрос"
    assert "не сможем" in letters["one@client.ru"]["body"]
    assert letters["two@client.ru"]["subject"] == "О вашем запросе"
    assert "не входит в наш ассортимент" in letters["two@client.ru"]["body"]
    assert (letters["one@client.ru"]["owner_type_id"], letters["one@client.ru"]["owner_id"]) == (
        LEAD,
        declined,
    )
    # the e-mail is an activity in the lead's card (what the manager sees)
    acts = w.rest("crm.activity.list", {"filter": {"OWNER_TYPE_ID": 1, "OWNER_ID": declined}})
    assert [a["TYPE_ID"] for a in acts if a["DIRECTION"] == "2"] == ["4"]

    # deferred demand: reminders after 60 and 90 days, by e-mail to the deal's contact
    contact = w.add(
        CONTACT, {"name": "Иван", "fm": [{"typeId": "EMAIL", "value": "ivan@build.ru"}]}
    )
    start = (datetime.now(UTC).date() + timedelta(days=240)).isoformat()
    fields = {"title": "Склад", "contactId": contact, "assignedById": 4,
              "categoryId": w.naming.category("metal.deal"),
              w.uf("deal", "UF_CRM_MT_START_DATE"): start}  # fmt: skip
    deal = w.add(DEAL, fields)
    w.settle()
    w.move(DEAL, deal, "metal.deal.negotiation", "deal")
    w.settle()
    now = datetime.now(UTC)
    fire_at(w, now + timedelta(days=61))
    fire_at(w, now + timedelta(days=92))
    reminders = [m for m in w.sent("email") if m["to"] == ["ivan@build.ru"]]
    assert len(reminders) == 2
    assert "Напоминаем о вашем проекте «" in reminders[0]["body"]
    assert "Строительный сезон близко" in reminders[1]["body"]
    assert not w.sms.received  # every client here had an e-mail

    before = sent_summary(w)
    replay_everything(w)
    assert sent_summary(w) == before


# -- furniture ------------------------------------------------------------------------------
@pytest.fixture
def furniture(tmp_path, redis_url):
    settings = {"furniture": {"city_admins": {"Москва": 5}}}
    yield from portal_world(
        tmp_path, redis_url, playbooks=["furniture"], world_class=MetalWorld, settings=settings
    )


def test_furniture_nurture_series_due_date_and_in_store_sms(furniture):
    w = furniture
    lid = w.lead_from("manual", title="Диван", user_id=4, phone="+79161110000")
    w.settle()
    w.move(LEAD, lid, "furniture.lead.visited", "lead", user_id=4)
    w.settle()
    now = datetime.now(UTC)
    for day in (3.1, 10.1, 20.1):  # the nurture series: days 3, 10 and 20 after the visit
        fire_at(w, now + timedelta(days=day))
    series = w.sms.texts("79161110000")
    # the month's texts in order, each its own (furniture reminder_texts), the offer among them
    assert len(series) == 3 and "заглянули в наш магазин" in series[0]
    assert len(set(series)) == 3 and any("спецпредложени" in t for t in series)
    # recorded on the lead as the app's SMS activity (OAuth app: app context)
    acts = w.rest("crm.activity.list", {"filter": {"OWNER_TYPE_ID": 1, "OWNER_ID": lid}})
    assert len([a for a in acts if a.get("PROVIDER_ID") == "REST_APP"]) == 3

    client = w.add(CONTACT, {"name": "Ольга", "fm": [{"typeId": "PHONE", "value": "+79162220000"}]})
    due = (now + timedelta(days=10)).date()
    fields = {"title": "Шкаф", "contactId": client, "assignedById": 5,
              "categoryId": w.naming.category("furniture.sales"),
              "stageId": w.stage("deal", "furniture.deal.manufacturing"),
              w.uf("deal", "UF_CRM_FR_DUE_DATE"): due.isoformat()}  # fmt: skip
    did = w.add(DEAL, fields, user_id=5)
    w.settle()
    fire_at(w, now + timedelta(days=4))
    w.move(DEAL, did, "furniture.deal.in_store", "deal", user_id=5)
    w.settle()
    due_sms, in_store = w.sms.texts("79162220000")
    assert f"{due:%d.%m.%Y}" in due_sms and "готов к выдаче" in in_store

    before = sent_summary(w)
    replay_everything(w)
    assert sent_summary(w) == before


# -- kitchens -------------------------------------------------------------------------------
@pytest.fixture
def kitchens(tmp_path, redis_url):
    from tests.e2e.test_kitchens_scenario import KitchensWorld

    settings = {"kitchens": {"measurer_user_ids": [5]}}
    yield from portal_world(
        tmp_path, redis_url, playbooks=["kitchens"], world_class=KitchensWorld, settings=settings
    )


def test_kitchens_measurement_confirmation_and_next_contact_date(kitchens):
    from tests.e2e.test_kitchens_scenario import answers, api, move, update, visit_time

    w = kitchens
    opt = lambda code, o: w.naming.enum_id(code, o, entity="lead")  # noqa: E731
    # the e-mail: the catalogue and proposal go out by e-mail (kitchens stage gate)
    lid = w.lead_from("manual", title="Кухня", user_id=3, phone="+79263330000", email="k1@ex.ru")
    w.settle()
    basics = {"UF_CRM_KT_BUDGET": 300000, "UF_CRM_KT_MATERIAL": opt("UF_CRM_KT_MATERIAL", "mdf"),
              "UF_CRM_KT_ADDRESS": "Москва, Тверская, 1"}  # fmt: skip
    update(w, lid, **basics, **answers(w, appliances="Наша"))
    move(w, lid, "kitchens.lead.qualified")
    visit = visit_time()
    made = api(w, "post", "bookings", {"lead_id": lid, "measurer_id": 5, "start": visit.isoformat(),
                                       "address": "Москва"})  # fmt: skip
    assert made.status_code == 201, made.get_data(as_text=True)
    w.settle()
    update(w, lid, UF_CRM_KT_MEASURE_OK="Y")
    (confirmed,) = w.sms.texts("79263330000")
    assert confirmed.startswith("Замер кухни подтверждён") and "Замерщик позвонит" in confirmed
    # an hour before the visit the client gets the arrival notice (and the measurer a call
    # reminder)
    fire_at(w, visit.astimezone(UTC) - timedelta(minutes=59))
    arrival = [t for t in w.sms.texts("79263330000") if t.startswith("Замерщик приедет")]
    assert len(arrival) == 1 and f"{visit:%d.%m.%Y} в 12:00" in arrival[0], w.sms.texts()

    other = w.lead_from(
        "manual", title="Кухня-2", user_id=3, phone="+79264440000", email="k2@ex.ru"
    )
    w.settle()
    update(w, other, **basics)
    nxt = datetime(2027, 3, 15, 12, 0, tzinfo=UTC)
    update(w, other, UF_CRM_KT_NEXT_CONTACT=nxt.isoformat())
    move(w, other, "kitchens.lead.next_contact")
    texts = w.sms.texts("79264440000")
    # one SMS: the next call and (none booked yet) when the measurement will be agreed
    assert len(texts) == 1, w.comments("lead", other)
    assert texts[0].startswith("Спасибо! Мы свяжемся с вами 15.03.2027.") and "Замер" in texts[0]

    before = sent_summary(w)
    replay_everything(w)
    assert sent_summary(w) == before


# -- eshop ----------------------------------------------------------------------------------
@pytest.fixture
def eshop(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["eshop"], world_class=MetalWorld)


def test_eshop_stage_limit_alert_goes_to_the_configured_chat(eshop):
    from app.playbooks.settings import set_value

    w = eshop
    chat = w.rest("im.chat.add", {"TITLE": "Заказы: сроки", "USERS": [2, 3]})
    with w.services.session() as s:
        set_value(s, w.member_id, "eshop", "alert_chat_id", f"chat{chat}")
        s.commit()
    fields = {"title": "Заказ 15", "categoryId": w.naming.category("eshop.orders"),
              "stageId": w.stage("deal", "eshop.order.new"), "assignedById": 3}  # fmt: skip
    w.add(DEAL, fields, user_id=3)
    w.settle()
    results = fire_at(w, datetime.now(UTC) + timedelta(days=3))  # past the 2 working hours
    alerts = w.sent("chat")
    assert len(alerts) == 1, (results, w.rest("crm.timeline.comment.list", {"filter": {}}))
    (alert,) = alerts
    assert alert["dialog_id"] == f"chat{chat}" and "«Заказ 15»" in alert["text"]
    assert "дольше 2 ч" in alert["text"]

    before = sent_summary(w)
    replay_everything(w)
    assert sent_summary(w) == before


# -- b2b ------------------------------------------------------------------------------------
@pytest.fixture
def b2b(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["b2b"], world_class=MetalWorld)


def test_b2b_reorder_reminder_reaches_the_client_at_its_reorder_interval(b2b):
    w = b2b
    chain = w.naming.enum_id("UF_CRM_B2B_BUSINESS", "chain", entity="company")
    company = w.add(4, {"title": "ООО Квартал", "fm": [{"typeId": "EMAIL", "value": "zakaz@kvartal.ru"}],
                        w.uf("company", "UF_CRM_B2B_BUSINESS"): chain})  # fmt: skip
    fields = {"title": "Первая поставка", "categoryId": w.naming.category("b2b.sales"),
              "stageId": w.stage("deal", "b2b.sales.shipment"), "assignedById": 4,
              "companyId": company}  # fmt: skip
    first = w.add(DEAL, fields, user_id=4)
    w.settle()
    w.move(DEAL, first, "b2b.sales.won", "deal", user_id=4)
    w.settle()
    now = datetime.now(UTC)
    fire_at(w, now + timedelta(days=20))
    assert not w.sent("email")  # a chain reorders every 30 days
    fire_at(w, now + timedelta(days=33))
    (mail,) = w.sent("email")
    assert mail["to"] == ["zakaz@kvartal.ru"] and mail["subject"] == "Пора пополнить запасы"
    assert "прошло 30 дн." in mail["body"] and (mail["owner_type_id"], mail["owner_id"]) == (
        2,
        first,
    )

    before = sent_summary(w)
    replay_everything(w)
    assert sent_summary(w) == before
