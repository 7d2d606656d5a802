"""E2E: the ``abc_score`` robot placed in the designer on «Клиент наш» scores the lead."""

from __future__ import annotations

from rq import SimpleWorker
from rq.serializers import JSONSerializer

from tests.e2e.test_kitchens_scenario import LEAD, MANAGER, world  # noqa: F401 - the fixture


def test_abc_score_robot_returns_what_the_rule_wrote_on_the_card(world):  # noqa: F811
    w = world
    opt = lambda code, o: w.naming.enum_id(code, o, entity="lead")  # noqa: E731
    stage = w.stage("lead", "kitchens.lead.qualified")
    w.emu.admin.post(
        "robots/place",
        {"entity_type_id": LEAD, "stage_id": stage, "code": "abc_score", "timeout": 600},
    )
    fields = {
        "title": "Робот",
        "name": "Пётр",
        "assignedById": MANAGER,
        w.uf("lead", "UF_CRM_KT_BUDGET"): 150000,
    }
    lead_id = w.rest("crm.item.add", {"entityTypeId": LEAD, "fields": fields})["item"]["id"]
    w.settle()
    # straight into «Клиент наш» with a budget only: the robot runs there (the control sends
    # the lead back for the missing material/address, but the robot already ran)
    w.rest("crm.item.update", {"entityTypeId": LEAD, "id": lead_id, "fields": {"stageId": stage}})
    w.emu.wait_deliveries(10)
    robots = w.services.queue("robots")
    SimpleWorker([robots], connection=w.services.redis, serializer=JSONSerializer).work(burst=True)
    w.settle()
    runs = [r for r in w.emu.admin.get("robot_runs") if r["code"] == "abc_score"]
    assert runs and runs[0]["status"] == "completed"
    values = runs[0]["return_values"]
    # budget band 100 000: s2 f2 p1 → 0.14 / 0.10 / 0.04, total 0.09 → C; sum = the budget
    assert values["abc_class"] == "C" and values["expected_sum"] == 150000.0
    assert (values["seriousness"], values["finance"], values["potential"]) == (0.14, 0.1, 0.04)
    card = w.item(LEAD, lead_id)  # the rule scored the card when the budget came in
    assert card["title"] == "C (С0,14 Ф0,10 П0,04) · Пётр"
    assert int(card[w.uf("lead", "UF_CRM_KT_ABC")]) == opt("UF_CRM_KT_ABC", "C")
