"""title_by_template, route_lead and sync_responsible on a portal the real installer set up
(metal playbook), each through the HTTP handler and the job, answered on the emulator."""

import pytest

from app.robots import route_lead, sync_responsible
from app.sync.context import portal_context
from tests.app._robots_world import build_world, install, run_robot, set_setting


@pytest.fixture
def world(emulator, make_services, redis_url):
    w = build_world(emulator, make_services)
    install(w)  # registers the metal playbook's robots
    listed = w.rest("bizproc.robot.list")
    for spec in (route_lead.SPEC, sync_responsible.SPEC):
        if spec.code not in listed:  # robots the playbook does not list yet: directly
            w.register(spec)
    w.naming = portal_context(w.services, w.member_id).naming
    return w


def _add(world, etid, **fields):
    return world.rest("crm.item.add", {"entityTypeId": etid, "fields": fields})["item"]["id"]


def _uf(world, entity, code):
    return world.naming.field_name(entity, code)


def _run(world, code, etid, item_id, properties=None):
    return run_robot(world, code, etid, item_id, properties)


# -- title_by_template -------------------------------------------------------------------


def _metal_lead(world, **extra):
    purpose = world.naming.enum_id("UF_CRM_MT_PURPOSE", "warehouse", entity="lead")
    fields = {
        "title": "Заявка",
        "sourceId": "WEB",
        _uf(world, "lead", "UF_CRM_MT_PURPOSE"): purpose,
        _uf(world, "lead", "UF_CRM_MT_AREA"): 1250.5,
        _uf(world, "lead", "UF_CRM_MT_SITE"): "Казань",
        **extra,
    }
    return _add(world, 1, **fields)


def test_default_template_from_settings_uses_names_not_ids(world):
    lead_id = _metal_lead(world)
    run = _run(world, "title_by_template", 1, lead_id)
    assert run["status"] == "completed"
    assert run["return_values"] == {"title": "Web · Склад 1 250,5 м² · Казань", "error": ""}
    assert world.item(1, lead_id)["title"] == "Web · Склад 1 250,5 м² · Казань"


def test_template_property_formats_numbers_and_dates_and_empty_parts_vanish(world):
    lead_id = _metal_lead(world, **{_uf(world, "lead", "UF_CRM_MT_SITE"): ""})
    created = world.item(1, lead_id)["createdTime"]  # "2026-11-22T11:24:00+03:00"
    day = f"{created[8:10]}.{created[5:7]}.{created[:4]}"
    template = "{purpose} {area:.1f} м²[ · {site}] · от {created:%d.%m.%Y}"
    run = _run(world, "title_by_template", 1, lead_id, {"template": template})
    assert run["return_values"]["title"] == f"Склад 1 250,5 м² · от {day}"


def test_unknown_placeholder_is_an_error_and_the_title_is_untouched(world):
    lead_id = _metal_lead(world)
    run = _run(world, "title_by_template", 1, lead_id, {"template": "{source} · {budget}"})
    assert run["status"] == "completed"
    assert "неизвестное поле {budget}" in run["return_values"]["error"]
    assert "title" not in run["return_values"]
    assert run["log"][-1].startswith("Ошибка:")
    assert world.item(1, lead_id)["title"] == "Заявка"


# -- route_lead --------------------------------------------------------------------------

TABLE = [
    {"name": "Казань, крупные", "responsible": 3, "regions": ["Казань"], "area_min": 500},
    {"name": "Менеджеры", "responsible": 4, "positions": ["Руководитель отдела продаж"]},
    {"name": "Остальные", "responsible": 2, "stage": "data_complete"},
]


def _region_lead(world, region, area, responsible=1):
    return _add(
        world,
        1,
        title="Лид",
        assignedById=responsible,
        **{
            _uf(world, "lead", "UF_CRM_MT_REGION"): region,
            _uf(world, "lead", "UF_CRM_MT_AREA"): area,
        },
    )


@pytest.mark.parametrize(
    ("region", "area", "responsible", "who", "stage", "rule"),
    [
        (" казань ", 800, 1, 3, "metal.lead.handed_over", "Казань, крупные"),
        ("Казань", 100, 2, 4, "metal.lead.handed_over", "Менеджеры"),  # user 2 is head of sales
        ("Самара", 900, 1, 2, "metal.lead.data_complete", "Остальные"),
    ],
)
def test_routing_table_sets_responsible_and_stage(
    world, region, area, responsible, who, stage, rule
):
    set_setting(world, "metal", "routing_table", TABLE)
    lead_id = _region_lead(world, region, area, responsible)
    run = _run(world, "route_lead", 1, lead_id)
    assert run["status"] == "completed"
    assert run["return_values"]["rule"] == rule
    assert run["return_values"]["responsible"] == f"user_{who}"
    lead = world.item(1, lead_id)
    assert lead["assignedById"] == who
    assert lead["stageId"] == world.naming.stage_id("lead", stage)


def test_broken_routing_table_is_answered_and_nothing_moves(world):
    set_setting(
        world,
        "metal",
        "routing_table",
        [{"name": "x", "responsible": 3, "area_min": 900, "area_max": 100}],
    )
    lead_id = _region_lead(world, "Казань", 500)
    run = _run(world, "route_lead", 1, lead_id)
    assert "«от» должна быть меньше «до»" in run["return_values"]["error"]
    lead = world.item(1, lead_id)
    assert (lead["assignedById"], lead["stageId"]) == (1, "NEW")


def test_route_lead_refuses_a_deal(world):
    set_setting(world, "metal", "routing_table", TABLE)
    deal_id = _add(world, 2, title="D")
    run = _run(world, "route_lead", 2, deal_id)
    assert "только лиды" in run["return_values"]["error"]


# -- sync_responsible --------------------------------------------------------------------


def test_company_responsible_goes_to_its_contacts(world):
    company = _add(world, 4, title="ООО Ромашка", assignedById=3)
    contacts = [
        _add(world, 3, name=f"C{i}", companyId=company, assignedById=r)
        for i, r in enumerate((1, 3, 4))
    ]
    stranger = _add(world, 3, name="Other", assignedById=1)
    run = _run(world, "sync_responsible", 4, company)
    assert run["return_values"] == {"responsible": "user_3", "updated": 2, "error": ""}
    assert [world.item(3, c)["assignedById"] for c in contacts] == [3, 3, 3]
    assert world.item(3, stranger)["assignedById"] == 1


def test_object_follows_its_deal_and_deal_pushes_to_its_objects(world):
    etid = world.naming.entity_type_id("metal.object")
    deal = _add(world, 2, title="Ангар", assignedById=4)
    obj = _add(world, etid, title="Объект", assignedById=1, **{"parentId2": deal})
    run = _run(world, "sync_responsible", etid, obj)
    assert (run["return_values"]["updated"], world.item(etid, obj)["assignedById"]) == (1, 4)
    world.rest("crm.item.update", {"entityTypeId": 2, "id": deal, "fields": {"assignedById": 5}})
    run = _run(world, "sync_responsible", 2, deal)
    assert run["return_values"] == {"responsible": "user_5", "updated": 1, "error": ""}
    assert world.item(etid, obj)["assignedById"] == 5


def test_object_without_deal_or_lead_is_an_error_answer(world):
    etid = world.naming.entity_type_id("metal.object")
    obj = _add(world, etid, title="Сирота", assignedById=1)
    run = _run(world, "sync_responsible", etid, obj)
    assert "не привязан" in run["return_values"]["error"]
