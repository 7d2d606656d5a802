"""E2E (#24): metal's reassignment table — a manager by region and by size — on an emulated
portal with the real installer, event POSTs, Redis/RQ and a real worker.

Seed 001: a lead is handed to the manager the table names «по региону, площади…» and moves
to «Передан менеджеру»; a complete web form too, after its Object check (the Object follows
the table's manager). A lead no row matches stays with the head of sales in «Данные
заполнены». Each step reads the portal back through REST.
"""

from __future__ import annotations

import pytest

from tests.e2e._metal_world import MetalWorld, portal_world

pytestmark = pytest.mark.e2e

HEAD = 1  # head of sales (head_of_sales_id default)
VOLGA, BIG = 3, 4  # Иван Петров, Мария Кузнецова: «Менеджер по продажам»
TABLE = [
    {"name": "Поволжье", "responsible": VOLGA, "regions": ["Татарстан", "Чувашия"]},
    {"name": "Крупные объекты", "responsible": BIG, "area_min": 1000},
]


@pytest.fixture
def world(tmp_path, redis_url):
    settings = {"metal": {"routing_table": TABLE}}
    yield from portal_world(
        tmp_path, redis_url, playbooks=["metal"], world_class=MetalWorld, settings=settings
    )


def _form(w, region, *, width, length, phone):
    uf = lambda code: w.uf("lead", code)  # noqa: E731
    fields = {
        uf("UF_CRM_MT_WIDTH"): width,
        uf("UF_CRM_MT_LENGTH"): length,
        uf("UF_CRM_MT_HEIGHT"): 6,
        uf("UF_CRM_MT_SITE"): "Объект",
        uf("UF_CRM_MT_PURPOSE"): w.purpose("lead", "warehouse"),
        uf("UF_CRM_MT_REGION"): region,
    }
    lead = w.lead_from("webform", email=f"{phone[-4:]}@client.ru", phone=phone, **fields)
    w.settle()
    return w.item(1, lead)


def _object_of(w, lead):
    (obj,) = [o for o in w.items(w.object_etid) if o.get("parentId1") == lead["id"]]
    return obj


def test_the_table_picks_the_manager_by_region_then_by_size_and_hands_the_lead_over(world):
    w = world
    handed_over = w.stage("lead", "metal.lead.handed_over")

    # a region row: Татарстан (any case) → Иван, «Передан менеджеру», the Object follows him
    kazan = _form(w, "татарстан", width=12, length=25, phone="+79001110001")
    assert (kazan["assignedById"], kazan["stageId"]) == (VOLGA, handed_over)
    assert _object_of(w, kazan)["assignedById"] == VOLGA

    # no region row, but 40 × 30 = 1200 m² ≥ 1000: the size row → Мария
    big = _form(w, "Москва", width=40, length=30, phone="+79001110002")
    assert (big["assignedById"], big["stageId"]) == (BIG, handed_over)
    assert float(big[w.uf("lead", "UF_CRM_MT_AREA")]) == 1200.0

    # both match: the first row of the table wins
    both = _form(w, "Чувашия", width=50, length=40, phone="+79001110003")
    assert both["assignedById"] == VOLGA

    # no row matches: the head of sales keeps it in «Данные заполнены»
    small = _form(w, "Москва", width=10, length=10, phone="+79001110004")
    assert small["assignedById"] == HEAD
    assert small["stageId"] == w.stage("lead", "metal.lead.data_complete")
    assert _object_of(w, small)["assignedById"] == HEAD
