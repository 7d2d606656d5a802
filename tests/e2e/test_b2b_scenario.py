"""E2E b2b (seed 003): the sample photo at «Встреча» and "no deal without a next step",
against the emulator with the real installer, our app receiving the portal's events
(deals and activities) and a real worker. The portal's state is read back through REST.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e._metal_world import MetalWorld, portal_world

DEAL = 2
REP = 4


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["b2b"], world_class=MetalWorld)


def deal(w, pipeline, stage, title, **extra):
    fields = {
        **extra,
        "title": title,
        "categoryId": w.naming.category(pipeline),
        "stageId": w.stage("deal", stage),
        "assignedById": REP,
    }
    deal_id = w.add(DEAL, fields, user_id=REP)
    w.settle()
    return deal_id


def open_activities(w, deal_id):
    return w.rest(
        "crm.activity.list",
        {"filter": {"OWNER_TYPE_ID": 2, "OWNER_ID": deal_id, "COMPLETED": "N"}},
    )


def deal_tasks(w, deal_id):
    """The portal's tasks bound to the deal: ``[(title, responsible, [checklist items])]``."""
    items = w.emu.admin.get("crm/checklist")
    return [
        (
            str(row["TITLE"]),
            int(row["RESPONSIBLE_ID"]),
            [c["TITLE"] for c in items if int(c["TASK_ID"]) == int(row["ID"])],
        )
        for row in w.emu.admin.get("crm/tasks")
        if f"D_{deal_id}" in [str(x) for x in row.get("UF_CRM_TASK") or []]
    ]


def test_sample_photo_and_next_step(world):
    w = world
    # 0. the rep's deal enters «Встреча»: a task with the step's checklist (rules_stage_tasks)
    shop = w.add(4, {"title": "Магазин «Ромашка»"})
    outlet = deal(w, "b2b.cold", "b2b.cold.new", "Магазин «Ромашка»", companyId=shop)
    w.move(DEAL, outlet, "b2b.cold.meeting", "deal", user_id=REP)
    w.settle()
    ((title, who, items),) = [t for t in deal_tasks(w, outlet) if "образца" in t[0]]
    assert title.startswith("Встреча и передача образца") and who == REP
    assert "Передать образец" in items
    # 1. a cold-sales rep moves past «Встреча» without the sample's photo: back, told why
    w.move(DEAL, outlet, "b2b.cold.sample", "deal", user_id=REP)
    w.settle()
    assert w.item(DEAL, outlet)["stageId"] == w.stage("deal", "b2b.cold.meeting")
    assert any("Фото образца" in n for n in w.notifications(REP))

    # 2. a sales deal's only planned call is done: the rep is told and a follow-up appears
    client = deal(w, "b2b.sales", "b2b.sales.offer", "Сеть «Квартал»")
    due = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    call = w.rest(
        "crm.activity.todo.add",
        {"ownerTypeId": 2, "ownerId": client, "deadline": due, "title": "Позвонить по КП",
         "responsibleId": REP},
    )  # fmt: skip
    w.settle()
    assert [a["SUBJECT"] for a in open_activities(w, client)] == ["Позвонить по КП"]
    w.rest("crm.activity.update", {"id": call["id"], "fields": {"COMPLETED": "Y"}})
    w.settle()
    assert any("без следующего шага" in n for n in w.notifications(REP))
    (follow_up,) = open_activities(w, client)
    assert follow_up["SUBJECT"] == "Следующий шаг по сделке «Сеть «Квартал»»"
    assert int(follow_up["RESPONSIBLE_ID"]) == REP

    # 3. that follow-up done while another step is planned: nothing more
    w.rest(
        "crm.activity.todo.add",
        {"ownerTypeId": 2, "ownerId": client, "deadline": due, "title": "Встреча",
         "responsibleId": REP},
    )  # fmt: skip
    w.settle()
    w.rest("crm.activity.update", {"id": follow_up["ID"], "fields": {"COMPLETED": "Y"}})
    w.settle()
    assert [a["SUBJECT"] for a in open_activities(w, client)] == ["Встреча"]
    # (a deal moved forward with no step and no stage task of its own goes back: pure test
    # test_b2b_stage_tasks_nps.py; stages with a stage task get their step from it)


def test_a_sale_opens_the_repeat_deal_and_a_loss_asks_why(world):
    w = world
    chain = w.naming.enum_id("UF_CRM_B2B_BUSINESS", "chain", entity="company")
    qualified = {  # the stage gate lets only a qualified client's deal be won
        w.uf("company", "UF_CRM_B2B_BUSINESS"): chain,
        w.uf("company", "UF_CRM_B2B_AUDIENCE"): "семьи",
        w.uf("company", "UF_CRM_B2B_GEO"): "Казань",
        w.uf("company", "UF_CRM_B2B_VOLUME"): 80000,  # a mid band: ×1
    }
    company = w.add(4, {"title": "ООО Квартал", **qualified})
    phone = [{"typeId": "PHONE", "valueType": "MOBILE", "value": "+79165554433"}]
    buyer = w.add(3, {"name": "Пётр", "fm": phone, "companyId": company})
    w.settle()
    # 0. the company card shows the reorder interval the app will plan with; a big order
    #    volume shortens it (seed 003: volume, geography, audience → periodicity)
    calc = w.uf("company", "UF_CRM_B2B_REORDER_CALC")
    assert int(w.item(4, company)[calc]) == 30
    w.emu.admin.post(
        "crm/update",
        {"entity_type_id": 4, "id": company, "user_id": REP,
         "fields": {w.uf("company", "UF_CRM_B2B_VOLUME"): 400000}},
    )  # fmt: skip
    w.settle()
    assert int(w.item(4, company)[calc]) == 23  # 30 × 0.75, rounded
    fields = {
        "title": "Первая поставка",
        "contactId": buyer,
        "categoryId": w.naming.category("b2b.sales"),
        "stageId": w.stage("deal", "b2b.sales.shipment"),
        "assignedById": REP,
        "companyId": company,
        "opportunity": 50000,
        w.uf("deal", "UF_CRM_B2B_PAY_DUE"): "2026-12-10",
    }
    first = w.add(DEAL, fields, user_id=REP)
    w.settle()

    # 1. delivered: the client's next deal waits in repeat sales with a reorder to-do
    w.move(DEAL, first, "b2b.sales.won", "deal", user_id=REP)
    w.settle()
    repeat = w.items(DEAL, {"categoryId": w.naming.category("b2b.repeat")})
    assert [(d["title"], d["stageId"], int(d["companyId"])) for d in repeat] == [
        ("Дозаказ: ООО Квартал", w.stage("deal", "b2b.repeat.planned"), company)
    ]
    (todo,) = open_activities(w, repeat[0]["id"])
    assert todo["SUBJECT"] == "Дозаказ: связаться с клиентом «ООО Квартал»"
    assert "23 дн." in todo["DESCRIPTION"]  # a big chain's reorder interval
    # the won deal keeps its win
    assert w.item(DEAL, first)["stageId"] == w.stage("deal", "b2b.sales.won")

    # 1b. days after the first delivery the client gets the survey (delivery, packaging,
    #     shelf life) with the link to its page (rules_nps; no e-mail, so by SMS)
    from app.timers.clock import fire_due_inline
    from app.timers.clocks import ManualClock

    fire_due_inline(w.services, ManualClock(datetime.now(UTC) + timedelta(days=4)))
    w.settle()
    (survey,) = [t for t in w.sms.texts("79165554433") if "упаковку" in t]  # sent by SMS
    assert "/nps/" in survey

    # 2. the client is lost in repeat sales: find out why
    w.move(DEAL, repeat[0]["id"], "b2b.repeat.lost", "deal", user_id=REP)
    w.settle()
    subjects = [a["SUBJECT"] for a in open_activities(w, repeat[0]["id"])]
    assert any(s.startswith("Выяснить причину ухода клиента") for s in subjects)


def test_an_existing_clients_web_form_is_flagged_to_their_manager(world):
    w = world
    manager = 3
    phone = [{"typeId": "PHONE", "valueType": "WORK", "value": "+7 (912) 000-11-22"}]
    w.add(3, {"name": "Ольга", "assignedById": manager, "fm": phone}, user_id=manager)
    w.settle()
    lid = w.lead_from("webform", title="Заявка с сайта", phone="89120001122")
    w.settle()
    assert any("оставил заявку с сайта" in n for n in w.notifications(manager))
    assert any("существующего клиента" in c for c in w.comments("lead", lid))
    # a stranger's form: nobody is told
    before = len(w.notifications(manager))
    w.lead_from("webform", title="Новый клиент", phone="+79990000000")
    w.settle()
    assert len(w.notifications(manager)) == before
