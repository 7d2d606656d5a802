"""The CRM methods over real HTTP: requests and fast-bitrix24 against a running emulator."""

from __future__ import annotations

import requests
from fast_bitrix24 import Bitrix


def post(url, method, payload):
    return requests.post(f"{url}{method}", json=payload, timeout=10)


def test_get_all_pages_through_legacy_leads(emulator):
    emulator.portal.crm.bulk_seed(1, [{"title": f"lead {i}"} for i in range(1, 121)])
    bx = Bitrix(emulator.webhook_url(), verbose=False)
    leads = bx.get_all("crm.lead.list", {"select": ["ID", "TITLE"], "filter": {">ID": 10}})
    assert len(leads) == 110
    assert sorted(int(lead["ID"]) for lead in leads) == list(range(11, 121))
    assert {lead["TITLE"] for lead in leads} >= {"lead 11", "lead 120"}


def test_item_add_through_fast_bitrix24_and_errors_over_http(emulator):
    url = emulator.webhook_url()
    bx = Bitrix(url, verbose=False)
    result = bx.call(
        "crm.item.add", {"entityTypeId": 2, "fields": {"title": "Over HTTP", "opportunity": 10}}
    )
    item = result.get("item", result)  # fast-bitrix24 unwraps a lone {"item": ...} key
    assert item["title"] == "Over HTTP" and item["opportunity"] == 10
    got = post(url, "crm.item.get", {"entityTypeId": 2, "id": item["id"]}).json()["result"]["item"]
    assert got["id"] == item["id"]
    missing = post(url, "crm.item.get", {"entityTypeId": 2, "id": 999})
    assert (missing.status_code, missing.json()) == (
        400,
        {"error": "NOT_FOUND", "error_description": "Item not found"},
    )
    legacy = post(url, "crm.deal.get", {"id": 999})
    assert (legacy.status_code, legacy.json()) == (
        400,
        {"error": "", "error_description": "Not found"},
    )
    invalid = post(url, "crm.item.add", {"entityTypeId": 2, "fields": {"stageId": "NOPE"}})
    assert invalid.json() == {
        "error": "CRM_FIELD_ERROR_VALUE_NOT_VALID",
        "error_description": 'Invalid value for field "stageId"',
    }


def test_batch_chains_a_legacy_add_into_a_get(emulator):
    url = emulator.webhook_url()
    bx = Bitrix(url, verbose=False)
    out = bx.call_batch(
        {
            "halt": 0,
            "cmd": {
                "add": "crm.lead.add?fields[TITLE]=Batch lead&fields[PHONE][0][VALUE]=555&fields[PHONE][0][VALUE_TYPE]=WORK",
                "get": "crm.lead.get?id=$result[add]",
            },
        }
    )
    lead_id = out["add"]
    assert out["get"]["ID"] == str(lead_id) and out["get"]["TITLE"] == "Batch lead"
    assert out["get"]["PHONE"][0]["VALUE"] == "555"


def test_export_without_counting_over_http(emulator):
    emulator.portal.crm.bulk_seed(2, [{"title": f"d{i}"} for i in range(1, 76)])
    url = emulator.webhook_url()
    body = post(
        url,
        "crm.item.list",
        {
            "entityTypeId": 2,
            "order": {"id": "ASC"},
            "filter": {">id": 50},
            "select": ["id"],
            "start": -1,
        },
    ).json()
    assert body["total"] == 0 and "next" not in body
    assert [i["id"] for i in body["result"]["items"]] == list(range(51, 76))
    counted = post(url, "crm.item.list", {"entityTypeId": 2, "select": ["id"], "start": 0}).json()
    assert (counted["total"], counted["next"], len(counted["result"]["items"])) == (75, 50, 50)


def test_form_encoded_legacy_update_with_multifields(emulator):
    url = emulator.webhook_url()
    cid = post(
        url,
        "crm.contact.add",
        {"fields": {"NAME": "K", "PHONE": [{"VALUE": "1", "VALUE_TYPE": "WORK"}]}},
    ).json()["result"]
    phone_id = post(url, "crm.contact.get", {"id": cid}).json()["result"]["PHONE"][0]["ID"]
    form = {
        "id": cid,
        "fields[PHONE][0][ID]": phone_id,
        "fields[PHONE][0][DELETE]": "Y",
        "fields[PHONE][1][VALUE]": "2",
        "fields[PHONE][1][VALUE_TYPE]": "HOME",
    }
    assert requests.post(f"{url}crm.contact.update", data=form, timeout=10).json()["result"] is True
    phones = post(url, "crm.contact.get", {"id": cid}).json()["result"]["PHONE"]
    assert [(p["VALUE"], p["VALUE_TYPE"]) for p in phones] == [("2", "HOME")]


def test_form_encoded_or_filter_reaches_crm_item_list(emulator):
    emulator.portal.crm.bulk_seed(2, [{"title": f"d{i}", "opportunity": i} for i in range(1, 6)])
    url = emulator.webhook_url()
    form = {
        "entityTypeId": "2",
        "filter[0][logic]": "OR",
        "filter[0][0][id]": "2",
        "filter[0][1][>opportunity]": "4",
        "select[]": "id",
        "order[id]": "DESC",
    }
    body = requests.post(f"{url}crm.item.list", data=form, timeout=10).json()
    assert [i["id"] for i in body["result"]["items"]] == [5, 2]
    assert body["total"] == 2


def test_app_gets_each_crm_event_once(emulator, installed_app):
    rest = installed_app["rest"]
    spa = rest.call("crm.type.add", {"fields": {"title": "Object", "entityTypeId": 1040}})["type"]
    for event in ("ONCRMDYNAMICITEMADD_1040", "ONCRMLEADUPDATE"):
        rest.call("event.bind", {"event": event, "event_type": "offline"})
    item = rest.call(
        "crm.item.add", {"entityTypeId": spa["entityTypeId"], "fields": {"title": "x"}}
    )["item"]
    lead = rest.call("crm.lead.add", {"fields": {"TITLE": "L"}})
    rest.call("crm.lead.update", {"id": lead, "fields": {"TITLE": "L2"}})
    events = rest.call("event.offline.get", {"clear": 0})["events"]
    seen = [(e["EVENT_NAME"], e["EVENT_DATA"]["FIELDS"]["ID"]) for e in events]
    assert seen == [("ONCRMDYNAMICITEMADD_1040", str(item["id"])), ("ONCRMLEADUPDATE", str(lead))]


def test_odd_parameter_shapes_never_crash_the_portal(emulator):
    url = emulator.webhook_url()
    emulator.portal.crm.bulk_seed(2, [{"title": "a"}, {"title": "b"}])
    one = post(url, "crm.item.list", {"entityTypeId": 2, "select": "title"}).json()
    assert [i for i in one["result"]["items"]] == [{"title": "a"}, {"title": "b"}]
    legacy = post(
        url, "crm.deal.list", {"select": "TITLE", "filter": "junk", "order": "junk"}
    ).json()
    assert legacy["result"] == [{"TITLE": "a"}, {"TITLE": "b"}]
    for method in (
        "crm.status.list",
        "crm.type.list",
        "crm.activity.list",
        "crm.timeline.comment.list",
        "tasks.task.list",
        "crm.lead.userfield.list",
        "crm.dealcategory.list",
    ):
        response = post(url, method, {"filter": "junk", "order": "junk", "select": "junk"})
        assert response.status_code == 200, (method, response.text)
