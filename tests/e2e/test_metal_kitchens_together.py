"""E2E: metal and kitchens installed on one portal (the real installer merges their lead
stages: ``NEW`` and ``CONVERTED`` are shared and keep metal's codes).

* The kitchens SOS chain starts for a new lead in the shared «Не обработан».
* A lead reaching the shared ``CONVERTED`` stage is converted once — by the playbook whose
  pipeline it came through (``app.playbooks.lead_owner``) — never into two deals.
"""

from __future__ import annotations

import pytest

from tests.e2e._metal_world import MetalWorld, portal_world

LEAD, DEAL = 1, 2
MANAGER = 3


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(
        tmp_path, redis_url, playbooks=["metal", "kitchens"], world_class=MetalWorld
    )


def deals_of(w, lead_id):
    return [d for d in w.items(DEAL) if int(d.get("leadId") or 0) == lead_id]


def move(w, lead_id, code):
    w.move(LEAD, lead_id, code, "lead", user_id=MANAGER)
    w.settle()


def test_shared_new_stage_keeps_metals_code_and_the_kitchens_sos_starts(world):
    from app.store.timers import Timer
    from app.timers import service

    w = world
    new = w.stage("lead", "metal.lead.unprocessed")
    assert new == w.stage("lead", "kitchens.lead.unprocessed") == "NEW"
    lid = w.lead_from("call", title="Звонок", name="Анна", phone="+79123456789")
    w.settle()
    with w.services.session() as s:
        timers: list[Timer] = service.list_timers(
            s, member_id=w.member_id, kind="kitchens.sos", record=("lead", lid)
        )
        started = [(t.kind, t.payload.get("stage")) for t in timers]
    assert started and started[0] == ("kitchens.sos", "metal.lead.unprocessed")


def test_a_kitchens_lead_is_converted_once_by_kitchens(world):
    w = world
    uf = lambda code: w.uf("lead", code)  # noqa: E731
    opt = lambda code, o: w.naming.enum_id(code, o, entity="lead")  # noqa: E731
    lid = w.lead_from(
        "manual", title="Кухня", name="Анна", user_id=MANAGER, email="anna@example.ru"
    )
    w.settle()
    answers = {
        uf("UF_CRM_KT_BUDGET"): 400000,
        uf("UF_CRM_KT_MATERIAL"): opt("UF_CRM_KT_MATERIAL", "mdf"),
        uf("UF_CRM_KT_ADDRESS"): "Москва",
        uf("UF_CRM_KT_HOUSE_TYPE"): opt("UF_CRM_KT_HOUSE_TYPE", "new"),
        uf("UF_CRM_KT_KITCHEN_TYPE"): opt("UF_CRM_KT_KITCHEN_TYPE", "corner"),
        uf("UF_CRM_KT_COUNTERTOP"): "Кварц",
        uf("UF_CRM_KT_APRON"): "Стекло",
        uf("UF_CRM_KT_APPLIANCES"): "Наша",
        uf("UF_CRM_KT_BUYER"): opt("UF_CRM_KT_BUYER", "self"),
        uf("UF_CRM_KT_URGENCY"): opt("UF_CRM_KT_URGENCY", "now"),
        "assignedById": MANAGER,
    }
    w.emu.admin.post(
        "crm/update", {"entity_type_id": LEAD, "id": lid, "fields": answers, "user_id": MANAGER}
    )
    w.settle()
    move(w, lid, "kitchens.lead.qualified")
    assert w.item(LEAD, lid)["stageId"] == w.stage("lead", "kitchens.lead.qualified")
    move(w, lid, "kitchens.lead.agreed")  # the shared CONVERTED stage
    assert w.item(LEAD, lid)["stageId"] == "CONVERTED"
    (deal,) = deals_of(w, lid)
    # kitchens' conversion: the lead's kitchen answers are on the deal
    assert deal[w.uf("deal", "UF_CRM_KT_COUNTERTOP")] == "Кварц"
    w.settle()
    assert len(deals_of(w, lid)) == 1


def test_a_metal_lead_is_converted_once_by_metal(world):
    w = world
    dims = {
        w.uf("lead", "UF_CRM_MT_WIDTH"): 12,
        w.uf("lead", "UF_CRM_MT_LENGTH"): 24,
        w.uf("lead", "UF_CRM_MT_REGION"): "Тверь",
    }
    lid = w.lead_from("manual", title="Ангар", user_id=MANAGER, **dims)
    w.settle()
    move(w, lid, "metal.lead.handed_over")
    assert w.item(LEAD, lid)["stageId"] == w.stage("lead", "metal.lead.handed_over")
    move(w, lid, "metal.lead.converted")
    # not sent back by the kitchens error control for missing kitchen answers
    assert w.item(LEAD, lid)["stageId"] == "CONVERTED"
    (deal,) = deals_of(w, lid)
    # metal's conversion: the deal is in the metal pipeline with the lead's region
    assert deal[w.uf("deal", "UF_CRM_MT_REGION")] == "Тверь"
    assert int(deal["categoryId"]) == int(w.naming.category("metal.deal"))
    w.settle()
    assert len(deals_of(w, lid)) == 1
