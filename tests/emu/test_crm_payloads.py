"""Documented request payloads replayed against the emulator; responses compared by shape."""

from __future__ import annotations

import json

import pytest

from b24emu.crm import CrmStore
from b24emu.methods import load_all
from b24emu.registry import Auth, Call, lookup
from b24emu.state import Portal
from tests.shared_docs import SHARED_PAYLOADS

PAYLOADS = SHARED_PAYLOADS
pytestmark = pytest.mark.skipif(not PAYLOADS.exists(), reason="payload files not available")


@pytest.fixture
def portal():
    load_all()
    p = Portal(member_id="m" * 32, domain="example.test", timezone_offset="+02:00")
    CrmStore(p)
    return p


def call(portal, name, params):
    auth = Auth(
        kind="oauth", user_id=1, scopes=frozenset({"crm", "userfieldconfig"}), client_id="app"
    )
    return lookup(name).fn(Call(portal, auth, name, params))


def payload(name):
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def test_lead_get_has_every_documented_key_with_its_json_type(portal):
    call(
        portal,
        "crm.type.add",
        {
            "fields": {
                "title": "Parent",
                "entityTypeId": 1222,
                "relations": {"child": [{"entityTypeId": 1, "isChildrenListEnabled": "true"}]},
            }
        },
    )
    call(
        portal,
        "crm.lead.userfield.add",
        {"fields": {"FIELD_NAME": "UF_CRM_1720019876534", "USER_TYPE_ID": "string"}},
    )
    fields = {
        "title": "Lead",
        "name": "Admin",
        "lastName": "Admins",
        "birthdate": "2000-01-01",
        "stageId": "IN_PROCESS",
        "opportunity": 999.9,
        "currencyId": "USD",
        "sourceId": "TRADE_SHOW",
        "isManualOpportunity": "Y",
        "ufCrm_1720019876534": "321",
        "fm": [
            {"typeId": "PHONE", "valueType": "WORK", "value": "+6111111111"},
            {"typeId": "EMAIL", "valueType": "WORK", "value": "admin@example.com"},
        ],
    }
    added = call(portal, "crm.item.add", {"entityTypeId": 1, "fields": fields})["item"]
    item = call(portal, "crm.item.get", {"entityTypeId": 1, "id": added["id"]})["item"]
    documented = payload("crm_item_get_response_lead_excerpt.json")["result"]["item"]
    for key, value in documented.items():
        assert key in item, key
        assert type(item[key]) is type(value), (key, item[key], value)
    same = (
        "stageId",
        "stageSemanticId",
        "opportunity",
        "currencyId",
        "sourceId",
        "name",
        "lastName",
        "birthdate",
        "hasPhone",
        "hasEmail",
        "email",
        "phone",
        "ufCrm_1720019876534",
        "parentId1222",
        "observers",
        "contactIds",
        "entityTypeId",
        "companyId",
        "contactId",
    )
    assert {k: item[k] for k in same} == {k: documented[k] for k in same}
    assert [(v["typeId"], v["value"]) for v in item["fm"]] == [
        (v["typeId"], v["value"]) for v in documented["fm"]
    ]


def test_list_page_request_gets_the_documented_envelope(portal):
    call(
        portal,
        "crm.deal.userfield.add",
        {"fields": {"FIELD_NAME": "UF_CRM_1721244707107", "USER_TYPE_ID": "double"}},
    )
    portal.crm.bulk_seed(
        2,
        [
            {"title": f"Deal #{i}", "opportunity": 19000 if i % 2 else 100, "stageId": "NEW"}
            for i in range(1, 301)
        ],
    )
    page = call(portal, "crm.item.list", payload("crm_item_list_page_request.json"))
    documented = payload("crm_item_list_page_response.json")
    assert set(page.result) == set(documented["result"])
    assert set(page.result["items"][0]) == set(documented["result"]["items"][0])
    assert page.total == 150 and page.next == 100
    first = page.result["items"][0]
    assert (first["stageId"], first["categoryId"], first["ufCrm_1721244707107"]) == ("NEW", 0, None)


def test_fast_list_request_gets_no_count(portal):
    portal.crm.bulk_seed(1, [{"title": f"t{i}"} for i in range(1, 12400)])
    page = call(portal, "crm.item.list", payload("crm_item_list_fast_request.json"))
    documented = payload("crm_item_list_fast_response.json")
    assert page.total == documented["total"] == 0 and page.next is None
    assert set(page.result["items"][0]) == set(documented["result"]["items"][0])
    assert [i["id"] for i in page.result["items"]] == list(range(12346, 12396))
    assert page.result["items"][0]["id"] == documented["result"]["items"][0]["id"]


def test_legacy_deal_get_has_every_documented_key(portal):
    call(
        portal,
        "crm.type.add",
        {
            "fields": {
                "title": "P",
                "entityTypeId": 1220,
                "relations": {"child": [{"entityTypeId": 2, "isChildrenListEnabled": "true"}]},
            }
        },
    )
    call(
        portal,
        "crm.deal.userfield.add",
        {"fields": {"FIELD_NAME": "UF_CRM_1721244482250", "USER_TYPE_ID": "string"}},
    )
    legacy_add = lookup("crm.deal.add").fn
    auth = Auth(kind="webhook", user_id=1, scopes=frozenset({"crm"}))
    fields = {
        "TITLE": "New Deal #1",
        "TYPE_ID": "COMPLEX",
        "STAGE_ID": "PREPARATION",
        "PROBABILITY": 99,
        "CURRENCY_ID": "EUR",
        "OPPORTUNITY": 1000000,
        "IS_MANUAL_OPPORTUNITY": "Y",
        "COMPANY_ID": 9,
        "CONTACT_ID": 84,
        "BEGINDATE": "2024-08-30",
        "CLOSEDATE": "2024-09-09",
        "COMMENTS": "[B]Example comment[/B]",
        "SOURCE_ID": "CALLBACK",
        "PARENT_ID_1220": 22,
        "UF_CRM_1721244482250": "Hello world!",
    }
    deal_id = legacy_add(Call(portal, auth, "crm.deal.add", {"fields": fields}))
    got = lookup("crm.deal.get").fn(Call(portal, auth, "crm.deal.get", {"id": deal_id}))
    documented = payload("crm_deal_get_response_legacy.json")["result"]
    assert set(documented) <= set(got), set(documented) - set(got)
    same = [
        k
        for k in documented
        if k not in ("ID", "DATE_CREATE", "DATE_MODIFY", "MOVED_TIME", "LAST_ACTIVITY_TIME")
    ]
    assert {k: got[k] for k in same} == {k: documented[k] for k in same}
