"""Widgets end to end: metal and kitchens installed on the emulator by the real installer
(which binds the placements to our /widgets/<code>), records made by employees on the
portal and mirrored through events, then each tab opened the way the portal opens it
(the emulator's frame POST to the bound handler) and its page read for the records' data."""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e._metal_world import MetalWorld, portal_world

pytestmark = pytest.mark.e2e

MEASURER = 5


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(
        tmp_path,
        redis_url,
        playbooks=["metal", "kitchens"],
        world_class=MetalWorld,
        settings={"kitchens": {"measurer_user_ids": [MEASURER]}},
    )


def _client_id(w) -> str:
    (client_id,) = list(w.emu.portal.core.apps)
    return client_id


def _open(w, placement, record_id, **extra):
    body = {"placement": placement, "options": {"ID": str(record_id)}, "user_id": 1, **extra}
    answer = w.emu.admin.post(f"apps/{_client_id(w)}/open", body)
    assert answer["status"] == 200, answer["body"][:500]
    return re.sub(r"\s+", " ", answer["body"])


def _object(w, *, site, tonnage=None, lead=None):
    uf = lambda c: w.uf("metal.object", c)  # noqa: E731
    fields = {
        "title": f"Объект {site}",
        uf("UF_CRM_OBJ_WIDTH"): 12.5,
        uf("UF_CRM_OBJ_LENGTH"): 24,
        uf("UF_CRM_OBJ_HEIGHT"): 6,
        uf("UF_CRM_OBJ_AREA"): 300,
        uf("UF_CRM_OBJ_SITE"): site,
        uf("UF_CRM_OBJ_PURPOSE"): w.purpose("metal.object", "warehouse"),
    }
    if tonnage is not None:
        fields[uf("UF_CRM_OBJ_TONNAGE")] = tonnage
    if lead:
        fields["parentId1"] = lead
    return w.add(w.object_etid, fields, user_id=2)


def test_installer_binds_every_widget_to_a_route_that_answers(world):
    w = world
    bound: dict[str, set[str]] = {}
    for p in w.emu.portal.core.placements:
        bound.setdefault(p.placement, set()).add(p.handler.rsplit("/widgets/", 1)[1])
    # the playbooks' lead tabs and the app's own «Автоматизация» tab (app.playbooks.app_widgets)
    lead_tabs = {"lead_object", "measurement", "training", "automation_lead"}
    assert bound["CRM_LEAD_DETAIL_TAB"] == lead_tabs
    object_tabs = {"object_merge", "automation_object"}
    assert bound[f"CRM_DYNAMIC_{w.object_etid}_DETAIL_TAB"] == object_tabs
    for entity in ("DEAL", "CONTACT", "COMPANY"):
        assert f"automation_{entity.lower()}" in bound[f"CRM_{entity}_DETAIL_TAB"]
    handlers = {p.handler.rsplit("/", 1)[1] for p in w.emu.portal.core.placements}
    assert {"lead_object", "measurement", "object_merge"} <= handlers


def test_metal_tabs_show_the_lead_object_and_its_duplicates(world):
    w = world
    lead = w.lead_from("manual", title="Склад в Казани")
    main = _object(w, site="Казань, Заводская 5", tonnage=42.5, lead=lead)
    dup = _object(w, site="Казань, Заводская 5")
    w.rest(
        "crm.item.update",
        {"entityTypeId": 1, "id": lead, "fields": {w.uf("lead", "UF_CRM_MT_OBJECT"): main}},
    )
    w.settle()
    page = _open(w, "CRM_LEAD_DETAIL_TAB", lead, url=_handler(w, "lead_object"))
    assert f"#{main} Объект Казань, Заводская 5" in page
    assert "42.5" in page and "Warehouse" in page
    assert re.search(rf'id="duplicates">1 <span class="muted">\(#{dup}\)', page)

    page = _open(w, f"CRM_DYNAMIC_{w.object_etid}_DETAIL_TAB", main)
    assert f'class="dup" value="{dup}"' in page
    cfg = json.loads(re.search(r'id="cfg">(.*?)</script>', page).group(1))
    found = w.app.test_client().get(
        f"/objects/{w.member_id}/{main}/candidates",
        headers={"Authorization": f"Bearer {cfg['bearer']}"},
    )
    assert found.get_json()["candidates"] == [dup]


def test_measurement_tab_books_through_its_bearer_and_shows_the_booking(world):
    w = world
    # calls are kitchens leads (lead_claims); the e-mail is needed once the catalogue goes out
    lead = w.lead_from("call", title="Кухня", email="kitchen@example.ru")
    w.settle()
    page = _open(w, "CRM_LEAD_DETAIL_TAB", lead, url=_handler(w, "measurement"))
    assert 'id="no-booking"' in page
    assert 'id="lead-problems"' in page and "«Бюджет»" in page  # nothing filled in yet
    _qualify(w, lead)
    page = _open(w, "CRM_LEAD_DETAIL_TAB", lead, url=_handler(w, "measurement"))
    assert 'id="lead-problems"' not in page
    assert 'value="Москва, Ленинский пр., 10"' in page  # the lead's address, prefilled
    starts = re.findall(rf'data-start="([^"]+)" data-measurer="{MEASURER}"', page)
    assert starts
    cfg = json.loads(re.search(r'id="cfg">(.*?)</script>', page).group(1))
    made = w.app.test_client().post(
        f"/booking/{w.member_id}/bookings",
        json={"lead_id": lead, "measurer_id": MEASURER, "start": starts[0], "address": "Мира 1"},
        headers={"Authorization": f"Bearer {cfg['bearer']}"},
    )
    assert made.status_code == 201, made.get_json()
    # the portal's older form (no APPLICATION_TOKEN): AUTH_ID is proved with app.info
    page = _open(
        w, "CRM_LEAD_DETAIL_TAB", lead, url=_handler(w, "measurement"), application_token=False
    )
    assert 'id="booking"' in page and "Мира 1" in page


def _handler(w, code):
    (url,) = {p.handler for p in w.emu.portal.core.placements if p.handler.endswith("/" + code)}
    return url


def _qualify(w, lead):
    """The answers the error control wants before «Замер назначен» (as a manager fills them)."""

    def opt(code, option):
        return w.naming.enum_id(code, option, entity="lead")

    values = {
        "UF_CRM_KT_BUDGET": 400000,
        "UF_CRM_KT_MATERIAL": opt("UF_CRM_KT_MATERIAL", "mdf"),
        "UF_CRM_KT_ADDRESS": "Москва, Ленинский пр., 10",
        "UF_CRM_KT_HOUSE_TYPE": opt("UF_CRM_KT_HOUSE_TYPE", "new"),
        "UF_CRM_KT_KITCHEN_TYPE": opt("UF_CRM_KT_KITCHEN_TYPE", "corner"),
        "UF_CRM_KT_COUNTERTOP": "Кварц",
        "UF_CRM_KT_APRON": "Стекло",
        "UF_CRM_KT_APPLIANCES": "Наша, полностью",
        "UF_CRM_KT_BUYER": opt("UF_CRM_KT_BUYER", "self"),
        "UF_CRM_KT_URGENCY": opt("UF_CRM_KT_URGENCY", "now"),
    }
    fields = {w.uf("lead", k): v for k, v in values.items()}
    w.rest("crm.item.update", {"entityTypeId": 1, "id": lead, "fields": fields})
    w.settle()
