"""Legacy crm.{lead,deal,contact,company}.*: UPPER_CASE, strings, "" dates, multifields."""

from __future__ import annotations

import json

import pytest

from b24emu.crm import CrmStore
from b24emu.methods import load_all
from b24emu.registry import Auth, Call, RestError, lookup
from b24emu.state import Portal
from tests.shared_docs import SHARED_PAYLOADS

PAYLOADS = SHARED_PAYLOADS


@pytest.fixture
def portal():
    load_all()
    p = Portal(member_id="m" * 32, domain="example.test", timezone_offset="+02:00")
    CrmStore(p)
    p.events = []
    p.emit = lambda name, data, user: p.events.append((name, data, user))
    return p


def call(portal, name, params, user_id=1):
    auth = Auth(kind="webhook", user_id=user_id, scopes=frozenset({"crm"}), webhook_code="c")
    return lookup(name).fn(Call(portal, auth, name, params))


def error_of(portal, name, params):
    with pytest.raises(RestError) as exc:
        call(portal, name, params)
    return exc.value.body()


def payload(name):
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def test_lead_add_and_get_like_the_documented_payload(portal):
    call(
        portal,
        "crm.lead.userfield.add",
        {"fields": {"FIELD_NAME": "SCORE", "USER_TYPE_ID": "integer"}},
    )
    lead_id = call(portal, "crm.lead.add", payload("crm_lead_add_request_legacy.json"))
    assert isinstance(lead_id, int)
    lead = call(portal, "crm.lead.get", {"id": str(lead_id)})
    documented = payload("crm_lead_get_response_legacy.json")["result"]
    assert not set(documented) - set(lead)
    assert lead["ID"] == str(lead_id) and lead["ASSIGNED_BY_ID"] == "1"
    assert lead["OPPORTUNITY"] == "12500.00" and lead["STATUS_ID"] == "NEW"
    assert lead["BIRTHDATE"] == "" and lead["DATE_CLOSED"] == ""
    assert lead["HAS_PHONE"] == "Y" and lead["HAS_EMAIL"] == "Y"
    assert lead["PHONE"] == [
        {"ID": lead["PHONE"][0]["ID"], "VALUE_TYPE": "WORK", "VALUE": "555888", "TYPE_ID": "PHONE"}
    ]
    assert lead["UF_CRM_SCORE"] == "10"
    assert portal.events == [("ONCRMLEADADD", {"FIELDS": {"ID": str(lead_id)}}, 1)]


def test_multifield_update_delete_edit_add(portal):
    cid = call(
        portal,
        "crm.contact.add",
        {
            "fields": {
                "NAME": "K",
                "PHONE": [
                    {"VALUE": "111", "VALUE_TYPE": "WORK"},
                    {"VALUE": "222", "VALUE_TYPE": "WORK"},
                    {"VALUE": "333", "VALUE_TYPE": "WORK"},
                ],
            }
        },
    )
    phones = call(portal, "crm.contact.get", {"id": cid})["PHONE"]
    first, second, third = (int(p["ID"]) for p in phones)
    call(
        portal,
        "crm.contact.update",
        {
            "id": cid,
            "fields": {
                "PHONE": [
                    {"ID": first, "DELETE": "Y"},
                    {"ID": second, "VALUE": "444444", "VALUE_TYPE": "MOBILE"},
                    {"ID": third},
                    {"VALUE": "55555", "VALUE_TYPE": "WORK"},
                ]
            },
        },
    )
    after = call(portal, "crm.contact.get", {"id": cid})["PHONE"]
    assert [(p["VALUE"], p["VALUE_TYPE"]) for p in after] == [
        ("444444", "MOBILE"),
        ("55555", "WORK"),
    ]
    assert after[0]["ID"] == str(second)


def test_deal_category_is_immutable_through_legacy_update(portal):
    call(portal, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "Other"}})
    deal_id = call(portal, "crm.deal.add", {"fields": {"TITLE": "D"}})
    assert (
        call(
            portal, "crm.deal.update", {"id": deal_id, "fields": {"CATEGORY_ID": 1, "TITLE": "D2"}}
        )
        is True
    )
    deal = call(portal, "crm.deal.get", {"id": deal_id})
    assert deal["CATEGORY_ID"] == "0" and deal["TITLE"] == "D2" and deal["STAGE_ID"] == "NEW"
    assert not any(name == "ONCRMDEALMOVETOCATEGORY" for name, _, _ in portal.events)


def test_lead_return_customer_is_automatic(portal):
    company = call(portal, "crm.company.add", {"fields": {"TITLE": "ACME"}})
    lead_id = call(
        portal,
        "crm.lead.add",
        {"fields": {"TITLE": "L", "IS_RETURN_CUSTOMER": "N", "COMPANY_ID": company}},
    )
    assert call(portal, "crm.lead.get", {"id": lead_id})["IS_RETURN_CUSTOMER"] == "Y"


def test_errors_use_the_empty_code(portal):
    assert error_of(portal, "crm.lead.get", {"id": 5}) == payload(
        "error_400_legacy_crm_not_found.json"
    )
    assert error_of(portal, "crm.lead.get", {"id": "abc"}) == payload(
        "error_400_legacy_crm_id_invalid.json"
    )
    body = error_of(portal, "crm.deal.add", {"fields": {"OPPORTUNITY": "much"}})
    assert body == {"error": "", "error_description": 'Invalid value for field "OPPORTUNITY"'}
    assert call(portal, "crm.deal.list", {}).total == 0


def test_list_select_rules(portal):
    call(
        portal,
        "crm.lead.userfield.add",
        {"fields": {"FIELD_NAME": "SCORE", "USER_TYPE_ID": "integer"}},
    )
    call(
        portal,
        "crm.lead.add",
        {
            "fields": {
                "TITLE": "A",
                "STATUS_ID": "NEW",
                "PHONE": [{"VALUE": "1", "VALUE_TYPE": "WORK"}],
                "UF_CRM_SCORE": 3,
            }
        },
    )
    call(portal, "crm.lead.add", {"fields": {"TITLE": "B", "STATUS_ID": "IN_PROCESS"}})
    default = call(portal, "crm.lead.list", {}).result[0]
    assert "TITLE" in default and "PHONE" not in default and "UF_CRM_SCORE" not in default
    request = payload("crm_lead_list_legacy_request.json")
    page = call(portal, "crm.lead.list", request)
    assert page.total == 1
    assert page.result == [
        {
            "ID": "1",
            "TITLE": "A",
            "STATUS_ID": "NEW",
            "ASSIGNED_BY_ID": "1",
            "UF_CRM_SCORE": "3",
            "PHONE": [{"ID": "1", "VALUE_TYPE": "WORK", "VALUE": "1", "TYPE_ID": "PHONE"}],
        }
    ]


def test_deal_contact_items(portal):
    deal_id = call(portal, "crm.deal.add", {"fields": {"TITLE": "D"}})
    request = payload("crm_deal_contact_items_set_request.json")
    request["id"] = deal_id
    assert call(portal, "crm.deal.contact.items.set", request) is True
    items = call(portal, "crm.deal.contact.items.get", {"id": deal_id})
    assert [(i["CONTACT_ID"], i["IS_PRIMARY"]) for i in items] == [(84, "Y"), (83, "N")]
    assert call(portal, "crm.deal.get", {"id": deal_id})["CONTACT_ID"] == "84"


def test_fields_describe_multifields_and_user_fields(portal):
    call(portal, "crm.deal.userfield.add", payload("crm_deal_userfield_add_enum_request.json"))
    deal_fields = call(portal, "crm.deal.fields", {})
    assert deal_fields["ID"]["isReadOnly"] is True and "PHONE" not in deal_fields
    uf = deal_fields["UF_CRM_PRIORITY"]
    assert uf["isDynamic"] is True and uf["type"] == "enumeration"
    assert [i["VALUE"] for i in uf["items"]] == ["Low", "High"]
    assert call(portal, "crm.contact.fields", {})["EMAIL"]["type"] == "crm_multifield"
    assert (deal_fields["OPENED"]["type"], deal_fields["COMMENTS"]["type"]) == ("char", "string")
    assert (deal_fields["OPPORTUNITY"]["type"], deal_fields["BEGINDATE"]["type"]) == (
        "double",
        "date",
    )


def test_legacy_list_filters_by_phone_and_email(portal):
    first = call(
        portal,
        "crm.contact.add",
        {
            "fields": {
                "NAME": "A",
                "PHONE": [{"VALUE": "+7 (900) 111-22-33", "VALUE_TYPE": "WORK"}],
                "EMAIL": [{"VALUE": "Ann@X.test", "VALUE_TYPE": "WORK"}],
            }
        },
    )
    call(
        portal,
        "crm.contact.add",
        {"fields": {"NAME": "B", "PHONE": [{"VALUE": "+7 900 999-99-99", "VALUE_TYPE": "WORK"}]}},
    )
    by_phone = call(
        portal, "crm.contact.list", {"filter": {"PHONE": "79001112233"}, "select": ["ID"]}
    ).result
    assert by_phone == [{"ID": str(first)}]
    by_email = call(
        portal, "crm.contact.list", {"filter": {"EMAIL": "ann@x.test"}, "select": ["ID"]}
    ).result
    assert by_email == [{"ID": str(first)}]
    assert call(portal, "crm.contact.list", {"filter": {"PHONE": "000"}}).result == []


def test_company_and_contact_bindings(portal):
    contact = call(portal, "crm.contact.add", {"fields": {"NAME": "C"}})
    assert (
        call(
            portal,
            "crm.contact.company.items.set",
            {
                "id": contact,
                "items": [{"COMPANY_ID": 7, "SORT": 20}, {"COMPANY_ID": 5, "IS_PRIMARY": "Y"}],
            },
        )
        is True
    )
    assert [
        (i["COMPANY_ID"], i["IS_PRIMARY"])
        for i in call(portal, "crm.contact.company.items.get", {"id": contact})
    ] == [(5, "Y"), (7, "N")]
    assert call(portal, "crm.contact.get", {"id": contact})["COMPANY_ID"] == "5"
    assert call(portal, "crm.contact.company.items.delete", {"id": contact}) is True
    assert call(portal, "crm.contact.company.items.get", {"id": contact}) == []
    assert error_of(portal, "crm.company.contact.items.get", {"id": 77}) == {
        "error": "",
        "error_description": "Not found",
    }
