"""The widget pages: what each shows from the store, empty states, escaping, and that the
bearer each page embeds is accepted by the JSON API its script calls."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.playbooks.settings import set_value
from app.store import mirror
from app.store.base import utcnow
from app.store.objects_index import ObjectMerge
from app.store.timers import DirectoryCache
from app.web import create_app
from tests.app._widgets_world import MEMBER, OBJECT_ETID, install, mirror_lead, open_widget

LEAD_TAB = "CRM_LEAD_DETAIL_TAB"
OBJECT_TAB = f"CRM_DYNAMIC_{OBJECT_ETID}_DETAIL_TAB"
MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def client(services):
    from app.objects import index

    index.install()  # the worker keeps the duplicate index in step with the mirror
    install(services, playbooks=("metal", "kitchens"))
    with services.session.begin() as s:
        s.add(
            DirectoryCache(
                member_id=MEMBER,
                name="users",
                data=[{"ID": "9", "NAME": "Пётр", "LAST_NAME": "Замеров", "ACTIVE": True}],
                fetched_at=utcnow(),
            )
        )
        set_value(s, MEMBER, "kitchens", "measurer_user_ids", [9])
    return create_app(services=services).test_client()


def _object(site="Казань, ул. Заводская 5", width=12, **extra):
    return {
        "title": "Склад на Заводской",
        "UF_CRM_OBJ_WIDTH": width,
        "UF_CRM_OBJ_LENGTH": 25,
        "UF_CRM_OBJ_HEIGHT": 6,
        "UF_CRM_OBJ_AREA": 300.0,
        "UF_CRM_OBJ_SITE": site,
        "UF_CRM_OBJ_PURPOSE": "warehouse",
        "UF_CRM_OBJ_TONNAGE": 42.5,
        "assignedById": 9,
        **extra,
    }


def _cfg(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="cfg">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", page)


# --- lead_object -------------------------------------------------------------------------------


def test_lead_object_shows_the_linked_object_and_its_duplicates(client, services):
    with services.session.begin() as s:
        mirror.put(s, MEMBER, "lead", 7, {"title": "Лид", "UF_CRM_MT_OBJECT": "T406_31"})
        mirror.put(s, MEMBER, "metal.object", 31, _object())
        mirror.put(s, MEMBER, "metal.object", 32, _object())  # same keys: a duplicate
        mirror.put(s, MEMBER, "metal.object", 33, _object(width=14))  # different
    resp = open_widget(client, "lead_object", placement=LEAD_TAB, options={"ID": "7"})
    assert resp.status_code == 200
    page = _text(resp.get_data(as_text=True))
    for shown in (
        "#31 Склад на Заводской",
        "Казань, ул. Заводская 5",
        "300",
        "42.5",
        "Склад",
        "Пётр Замеров",
    ):
        assert shown in page, shown
    assert re.search(r'id="duplicates">1 <span class="muted">\(#32\)', page)
    assert "no-object" not in page


def test_lead_object_falls_back_to_the_object_parented_to_the_lead(client, services):
    with services.session.begin() as s:
        mirror.put(s, MEMBER, "lead", 8, {"title": "Лид без поля"})
        mirror.put(s, MEMBER, "metal.object", 40, _object(site="Самара", parentId1=8))
    page = open_widget(client, "lead_object", placement=LEAD_TAB, options={"ID": "8"}).get_data(
        as_text=True
    )
    assert "#40" in page and "Самара" in page
    assert re.search(r'id="duplicates">0', _text(page))


def test_lead_object_empty_states(client, services):
    page = open_widget(client, "lead_object", placement=LEAD_TAB, options={"ID": "9"}).get_data(
        as_text=True
    )
    assert 'id="no-object"' in page and "ещё не привязан объект" in page
    with services.session.begin() as s:
        mirror.put(s, MEMBER, "lead", 10, {"UF_CRM_MT_OBJECT": 77})  # Object not mirrored yet
    page = open_widget(client, "lead_object", placement=LEAD_TAB, options={"ID": "10"}).get_data(
        as_text=True
    )
    assert 'id="no-object"' in page and "#77 ещё не загружен" in page


def test_lead_object_in_english(client, services):
    resp = open_widget(
        client, "lead_object", placement=LEAD_TAB, options={"ID": "9"}, query={"LANG": "en"}
    )
    assert "No Object is linked to this lead yet" in resp.get_data(as_text=True)


# --- object_merge ------------------------------------------------------------------------------


def test_merge_window_lists_candidates_and_its_bearer_drives_the_objects_api(client, services):
    with services.session.begin() as s:
        mirror.put(s, MEMBER, "metal.object", 31, _object())
        mirror.put(s, MEMBER, "metal.object", 32, _object(title="<b>Дубль</b>"))
        mirror.put(s, MEMBER, "metal.object", 33, _object(width=14))
    resp = open_widget(client, "object_merge", placement=OBJECT_TAB, options={"ID": "31"})
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert 'class="dup" value="32"' in page and 'value="33"' not in page
    assert "&lt;b&gt;Дубль&lt;/b&gt;" in page and "<b>Дубль</b>" not in page
    cfg = _cfg(page)
    assert (cfg["member"], cfg["object"]) == (MEMBER, 31)
    auth = {"Authorization": f"Bearer {cfg['bearer']}"}
    found = client.get(f"/objects/{MEMBER}/31/candidates", headers=auth)
    assert found.status_code == 200 and found.get_json()["candidates"] == [32]
    plan = client.post(
        f"/objects/{MEMBER}/merge/preview",
        json={"main_id": 31, "duplicate_ids": [32]},
        headers=auth,
    )
    assert plan.status_code == 200 and plan.get_json()["deletes"] == [32]
    last = cfg["bearer"][-1]
    forged = {"Authorization": "Bearer " + cfg["bearer"][:-1] + ("1" if last == "0" else "0")}
    assert client.get(f"/objects/{MEMBER}/31/candidates", headers=forged).status_code == 401


def test_merge_window_shows_a_running_merge_and_empty_states(client, services):
    with services.session.begin() as s:
        mirror.put(s, MEMBER, "metal.object", 31, _object())
        s.add(
            ObjectMerge(
                member_id=MEMBER,
                key="k" * 64,
                main_id=31,
                request={},
                plan={},
                steps=[],
                state="failed",
                error="Объект #32 занят <другим> объединением",
            )
        )
    page = open_widget(client, "object_merge", placement=OBJECT_TAB, options={"ID": "31"}).get_data(
        as_text=True
    )
    assert 'id="no-candidates"' in page
    assert f'data-key="{"k" * 64}" data-state="failed"' in page
    assert "занят &lt;другим&gt; объединением" in page
    page = open_widget(client, "object_merge", placement=OBJECT_TAB, options={"ID": "99"}).get_data(
        as_text=True
    )
    assert 'id="no-object"' in page


# --- measurement -------------------------------------------------------------------------------


def test_measurement_empty_state_offers_free_slots(client):
    resp = open_widget(client, "measurement", placement=LEAD_TAB, options={"ID": "7"})
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert 'id="no-booking"' in page
    slots = re.findall(r'class="slot" data-start="([^"]+)" data-measurer="9"', page)
    assert len(slots) == 8
    first = datetime.fromisoformat(slots[0])
    assert first > datetime.now(MSK) and first.astimezone(MSK).hour >= 9
    assert "Пётр Замеров" in page


def test_measurement_books_through_the_embedded_bearer_and_shows_the_booking(client, services):
    for lead_id in (7, 8):
        mirror_lead(services, MEMBER, lead_id)
    page = open_widget(client, "measurement", placement=LEAD_TAB, options={"ID": "7"}).get_data(
        as_text=True
    )
    cfg = _cfg(page)
    start = re.findall(r'data-start="([^"]+)"', page)[0]
    auth = {"Authorization": f"Bearer {cfg['bearer']}"}
    body = {"lead_id": 7, "measurer_id": 9, "start": start, "address": "<i>ул. Мира</i>"}
    made = client.post(f"/booking/{MEMBER}/bookings", json=body, headers=auth)
    assert made.status_code == 201
    clash = client.post(f"/booking/{MEMBER}/bookings", json={**body, "lead_id": 8}, headers=auth)
    assert clash.status_code == 409 and clash.get_json()["offers"]
    page = open_widget(client, "measurement", placement=LEAD_TAB, options={"ID": "7"}).get_data(
        as_text=True
    )
    when = datetime.fromisoformat(start).astimezone(MSK).strftime("%d.%m.%Y %H:%M")
    assert 'id="booking"' in page and when in page and "Пётр Замеров" in page
    assert "&lt;i&gt;ул. Мира&lt;/i&gt;" in page and "<i>ул. Мира</i>" not in page
    booking_id = made.get_json()["booking"]["id"]
    assert _cfg(page)["booking"] == booking_id
    # the slot just taken is no longer offered
    assert f'data-start="{start}"' not in page
    later = (datetime.fromisoformat(start) + timedelta(days=1)).isoformat()
    moved = client.post(
        f"/booking/{MEMBER}/bookings/{booking_id}/reschedule", json={"start": later}, headers=auth
    )
    assert moved.status_code in (200, 409)
    cancelled = client.post(f"/booking/{MEMBER}/bookings/{booking_id}/cancel", headers=auth)
    assert cancelled.get_json()["booking"]["state"] == "cancelled"
    page = open_widget(client, "measurement", placement=LEAD_TAB, options={"ID": "7"}).get_data(
        as_text=True
    )
    assert 'id="no-booking"' in page


def test_measurement_warns_when_the_lead_is_not_ready(client, services):
    with services.session.begin() as s:
        mirror.put(s, MEMBER, "lead", 12, {"title": "Кухня", "stageId": "NEW", "sourceId": "CALL"})
    page = open_widget(client, "measurement", placement=LEAD_TAB, options={"ID": "12"}).get_data(
        as_text=True
    )
    assert 'id="lead-problems"' in page and "не заполнено" in page


def test_page_json_config_cannot_break_out_of_its_script(client, services):
    with services.session.begin() as s:
        mirror.put(s, MEMBER, "metal.object", 31, _object())
    page = open_widget(client, "object_merge", placement=OBJECT_TAB, options={"ID": "31"}).get_data(
        as_text=True
    )
    cfg_block = re.search(r'id="cfg">(.*?)</script>', page, re.S).group(1)
    assert "<" not in cfg_block
