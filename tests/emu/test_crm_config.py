"""crm.status.*, crm.category.*, crm.type.*, user fields and userfieldconfig.*."""

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
    p = Portal(member_id="m" * 32, domain="example.test")
    CrmStore(p)
    p.events = []
    p.emit = lambda name, data, user: p.events.append((name, data, user))
    return p


def call(portal, name, params, user_id=1):
    auth = Auth(
        kind="oauth", user_id=user_id, scopes=frozenset({"crm", "userfieldconfig"}), client_id="app"
    )
    return lookup(name).fn(Call(portal, auth, name, params))


def error_of(portal, name, params):
    with pytest.raises(RestError) as exc:
        call(portal, name, params)
    return exc.value.body()


def payload(name):
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def strip(rows, keys=("ID",)):
    return [{k: v for k, v in r.items() if k not in keys} for r in rows]


def test_lead_stages_match_the_documented_list(portal):
    page = call(
        portal, "crm.status.list", {"order": {"SORT": "ASC"}, "filter": {"ENTITY_ID": "STATUS"}}
    )
    documented = payload("crm_status_list_response_lead_STATUS.json")
    # names and SYSTEM flags follow b24restdocs, not the digest (tests/emu/test_contract.py)
    keys = ("ID", "NAME", "NAME_INIT", "SYSTEM")
    assert strip(page.result, keys) == strip(documented["result"], keys)
    assert page.total == documented["total"]


def test_new_deal_pipeline_gets_prefixed_default_stages(portal):
    category = call(
        portal,
        "crm.category.add",
        {"entityTypeId": 2, "fields": {"name": "Wholesale", "sort": 200}},
    )["category"]
    assert category["id"] == 1 and category["isDefault"] == "N"
    stages = call(
        portal,
        "crm.status.list",
        {"order": {"SORT": "ASC"}, "filter": {"ENTITY_ID": "DEAL_STAGE_1"}},
    ).result
    documented = {
        r["STATUS_ID"]: r for r in payload("crm_status_list_response_DEAL_STAGE_1.json")["result"]
    }
    by_code = {r["STATUS_ID"]: r for r in stages}
    for code, row in documented.items():
        assert strip([by_code[code]], ("ID", "NAME", "NAME_INIT")) == strip(
            [row], ("ID", "NAME", "NAME_INIT")
        )
    categories = call(portal, "crm.category.list", {"entityTypeId": 2})
    assert [(c["id"], c["name"], c["isDefault"]) for c in categories.result["categories"]] == [
        (1, "Wholesale", "N"),
        (0, "General", "Y"),
    ]


def test_status_add_prefix_sort_rule_duplicate_and_delete(portal):
    call(portal, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "P"}})
    new_id = call(
        portal,
        "crm.status.add",
        {
            "fields": {
                "ENTITY_ID": "DEAL_STAGE_1",
                "STATUS_ID": "DECISION",
                "NAME": "Decision",
                "SORT": 25,
            }
        },
    )
    assert call(portal, "crm.status.get", {"id": new_id})["STATUS_ID"] == "C1:DECISION"
    dup = error_of(
        portal,
        "crm.status.add",
        {"fields": {"ENTITY_ID": "DEAL_STAGE_1", "STATUS_ID": "C1:DECISION", "NAME": "Again"}},
    )
    assert dup == payload("error_400_crm_status_duplicate.json")
    after_final = error_of(
        portal,
        "crm.status.add",
        {"fields": {"ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "LATE", "NAME": "Late", "SORT": 65}},
    )
    assert after_final["error"] == "" and after_final["error_description"].startswith(
        "Cannot create more stages after the final stage"
    )
    assert error_of(portal, "crm.status.add", {"fields": {"ENTITY_ID": "STATUS", "NAME": "x"}}) == {
        "error": "",
        "error_description": "The field STATUS_ID is required.",
    }
    system_new = next(
        r
        for r in call(
            portal, "crm.status.list", {"filter": {"ENTITY_ID": "STATUS", "STATUS_ID": "NEW"}}
        ).result
    )
    assert (
        "FORCED"
        in error_of(portal, "crm.status.delete", {"id": system_new["ID"]})["error_description"]
    )
    call(
        portal,
        "crm.item.add",
        {"entityTypeId": 2, "fields": {"categoryId": 1, "stageId": "C1:DECISION"}},
    )
    assert (
        error_of(portal, "crm.status.delete", {"id": new_id})["error_description"]
        == "There are active items in this status."
    )


def test_category_errors(portal):
    assert error_of(portal, "crm.category.list", {"entityTypeId": 1}) == {
        "error": "ENTITY_TYPE_NOT_SUPPORTED",
        "error_description": "Entity type `LEAD` is not supported",
    }
    assert (
        error_of(portal, "crm.category.get", {"entityTypeId": 2, "id": 42})["error"] == "NOT_FOUND"
    )
    assert (
        error_of(portal, "crm.category.list", {"entityTypeId": 1500})["error_description"]
        == "Smart process not found"
    )
    assert (
        error_of(portal, "crm.category.delete", {"entityTypeId": 2, "id": 0})["error"]
        == "REMOVING_DISABLED"
    )


def test_smart_process_type_lifecycle(portal):
    created = call(portal, "crm.type.add", payload("crm_type_add_request.json"))["type"]
    documented = payload("crm_type_add_response.json")["result"]["type"]
    assert set(documented) <= set(created)
    assert created["relations"] == documented["relations"]
    assert created["linkedUserFields"] == documented["linkedUserFields"]
    assert {k: created[k] for k in documented if k.startswith("is")} == {
        k: v for k, v in documented.items() if k.startswith("is")
    }
    assert portal.events[-1] == ("ONCRMTYPEADD", {"FIELDS": {"ID": str(created["id"])}}, 1)
    assert (
        call(portal, "crm.type.getByEntityTypeId", {"entityTypeId": 1030})["type"]["id"]
        == created["id"]
    )
    cats = call(portal, "crm.category.list", {"entityTypeId": 1030}).result["categories"]
    assert len(cats) == 1 and cats[0]["isDefault"] == "Y"
    stages = call(
        portal, "crm.status.list", {"filter": {"ENTITY_ID": f"DYNAMIC_1030_STAGE_{cats[0]['id']}"}}
    ).result
    assert stages[0]["STATUS_ID"] == f"DT1030_{cats[0]['id']}:NEW"
    item = call(
        portal,
        "crm.item.add",
        {"entityTypeId": 1030, "fields": {"title": "R", "parentId2": 5, "opportunity": 150}},
    )["item"]
    assert (
        item["parentId2"] == 5
        and item["parentId1"] is None
        and item["stageId"].startswith("DT1030_")
    )
    data = {"FIELDS": {"ID": str(item["id"]), "ENTITY_TYPE_ID": "1030"}}
    assert portal.events[-1] == ("ONCRMDYNAMICITEMADD", data, 1)
    assert error_of(portal, "crm.type.delete", {"id": created["id"]})["error"] == "BX_ERROR"
    call(portal, "crm.item.delete", {"entityTypeId": 1030, "id": item["id"]})
    assert call(portal, "crm.type.delete", {"id": created["id"]}) == []
    assert (
        error_of(portal, "crm.item.list", {"entityTypeId": 1030})["error_description"]
        == "Smart process not found"
    )


@pytest.mark.parametrize("etid", [127, 193, 1031, 1029, 5])
def test_entity_type_id_range(portal, etid):
    body = error_of(portal, "crm.type.add", {"fields": {"title": "X", "entityTypeId": etid}})
    assert body == payload("crm_type_error_out_of_range.json")


def test_auto_entity_type_ids_are_allowed_and_unique(portal):
    first = call(portal, "crm.type.add", {"fields": {"title": "A"}})["type"]["entityTypeId"]
    second = call(portal, "crm.type.add", {"fields": {"title": "B"}})["type"]["entityTypeId"]
    assert first != second and all(
        128 <= e <= 192 or (e >= 1030 and e % 2 == 0) for e in (first, second)
    )


def test_legacy_userfield_names_and_enum_list(portal):
    for given in ("MANAGER_NOTE", "UF_MANAGER_NOTE2", "UF_CRM_MANAGER_NOTE3"):
        call(
            portal,
            "crm.lead.userfield.add",
            {"fields": {"FIELD_NAME": given, "USER_TYPE_ID": "string"}},
        )
    names = [f["FIELD_NAME"] for f in call(portal, "crm.lead.userfield.list", {}).result]
    assert names == ["UF_CRM_MANAGER_NOTE", "UF_CRM_MANAGER_NOTE2", "UF_CRM_MANAGER_NOTE3"]
    too_long = error_of(
        portal,
        "crm.lead.userfield.add",
        {"fields": {"FIELD_NAME": "X" * 44, "USER_TYPE_ID": "string"}},
    )
    assert too_long == payload("error_400_userfield_name_too_long.json")
    fid = call(
        portal, "crm.deal.userfield.add", payload("crm_deal_userfield_add_enum_request.json")
    )
    field = call(portal, "crm.deal.userfield.get", {"id": fid})
    assert field["ENTITY_ID"] == "CRM_DEAL" and field["EDIT_FORM_LABEL"] == "Priority"
    low, high = field["LIST"]
    assert (low["VALUE"], low["DEF"], high["VALUE"]) == ("Low", "Y", "High") and low["ID"] != high[
        "ID"
    ]
    deal = call(
        portal, "crm.item.add", {"entityTypeId": 2, "fields": {"ufCrmPriority": int(high["ID"])}}
    )["item"]
    assert deal["ufCrmPriority"] == int(high["ID"])
    bad = error_of(portal, "crm.item.add", {"entityTypeId": 2, "fields": {"ufCrmPriority": 999999}})
    assert bad["error"] == "CRM_FIELD_ERROR_VALUE_NOT_VALID"
    call(
        portal,
        "crm.deal.userfield.update",
        {
            "id": fid,
            "fields": {"LIST": [{"ID": low["ID"], "DEL": "Y"}, {"VALUE": "Mid", "SORT": 15}]},
        },
    )
    assert [o["VALUE"] for o in call(portal, "crm.deal.userfield.get", {"id": fid})["LIST"]] == [
        "Mid",
        "High",
    ]


def test_userfieldconfig_for_a_smart_process(portal):
    spa = call(portal, "crm.type.add", {"fields": {"title": "S", "entityTypeId": 177}})["type"]
    request = payload("userfieldconfig_add_request_smart_process.json")
    request["field"]["entityId"] = f"CRM_{spa['id']}"
    request["field"]["fieldName"] = f"UF_CRM_{spa['id']}_CONTRACT_NO"
    field = call(portal, "userfieldconfig.add", request)["field"]
    documented = payload("userfieldconfig_add_response_smart_process.json")["result"]["field"]
    assert set(field) == set(documented)
    assert (field["sort"], field["showInList"], field["listColumnLabel"]) == (
        "100",
        "Y",
        {"en": None},
    )
    item = call(
        portal,
        "crm.item.add",
        {"entityTypeId": 177, "fields": {f"ufCrm{spa['id']}ContractNo": "A-17"}},
    )["item"]
    assert item[f"ufCrm{spa['id']}ContractNo"] == "A-17"
    wrong = dict(request, field=dict(request["field"], fieldName="UF_CRM_CONTRACT_NO"))
    assert error_of(portal, "userfieldconfig.add", wrong) == {
        "error": "",
        "error_description": "You cannot create custom fields",
    }
    listed = call(
        portal,
        "userfieldconfig.list",
        {"moduleId": "crm", "filter": {"entityId": f"CRM_{spa['id']}"}},
    )
    assert [f["fieldName"] for f in listed.result["fields"]] == [f"UF_CRM_{spa['id']}_CONTRACT_NO"]
    assert call(portal, "userfieldconfig.delete", {"moduleId": "crm", "id": field["id"]}) is None
    assert (
        f"ufCrm{spa['id']}ContractNo"
        not in call(portal, "crm.item.get", {"entityTypeId": 177, "id": item["id"]})["item"]
    )


def test_entity_types_lists_prefixes(portal):
    call(portal, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "Newest"}})
    types = {t["ID"]: t for t in call(portal, "crm.status.entity.types", {})}
    assert types["STATUS"]["SEMANTIC_INFO"]["FINAL_SUCCESS_FIELD"] == "CONVERTED"
    assert (
        types["DEAL_STAGE_1"]["PREFIX"] == "C1"
        and types["DEAL_STAGE_1"]["SEMANTIC_INFO"]["START_FIELD"] == "C1:NEW"
    )
    assert "SOURCE" in types
    items = call(portal, "crm.status.entity.items", {"entityId": "DEAL_STAGE"})
    assert items[0] == {"NAME": "New", "SORT": 10, "STATUS_ID": "NEW"}


def test_new_invoices_are_a_built_in_smart_process(portal):
    deal_pipeline = call(
        portal, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "First"}}
    )["category"]
    assert deal_pipeline["id"] == 1  # invoices do not take pipeline ids before they are used
    invoice = call(
        portal,
        "crm.item.add",
        {"entityTypeId": 31, "fields": {"title": "INV-1", "opportunity": 10}},
    )["item"]
    cats = call(portal, "crm.category.list", {"entityTypeId": 31}).result["categories"]
    assert (
        invoice["stageId"] == f"DT31_{cats[0]['id']}:N" and invoice["categoryId"] == cats[0]["id"]
    )
    data = {"FIELDS": {"ID": str(invoice["id"]), "ENTITY_TYPE_ID": "31"}}
    assert portal.events[-1] == ("ONCRMDYNAMICITEMADD", data, 1)
    stages = call(
        portal, "crm.status.list", {"filter": {"ENTITY_ID": f"SMART_INVOICE_STAGE_{cats[0]['id']}"}}
    ).result
    assert [(s["STATUS_ID"].split(":")[1], s["SEMANTICS"]) for s in stages] == [
        ("N", None),
        ("S", None),
        ("P", "S"),
        ("D", "F"),
    ]
    call(
        portal,
        "userfieldconfig.add",
        {
            "moduleId": "crm",
            "field": {
                "entityId": "CRM_SMART_INVOICE",
                "fieldName": "UF_CRM_SMART_INVOICE_NOTE",
                "userTypeId": "string",
            },
        },
    )
    with_uf = call(
        portal,
        "crm.item.update",
        {
            "entityTypeId": 31,
            "id": invoice["id"],
            "fields": {"ufCrmSmartInvoiceNote": "x"},
        },
    )["item"]
    assert with_uf["ufCrmSmartInvoiceNote"] == "x"
    assert all(t["entityTypeId"] != 31 for t in call(portal, "crm.type.list", {}).result["types"])


def test_deprecated_dealcategory_methods_share_the_pipelines(portal):
    new_id = call(portal, "crm.dealcategory.add", {"fields": {"NAME": "Repeat sales", "SORT": 100}})
    assert (
        call(portal, "crm.category.get", {"entityTypeId": 2, "id": new_id})["category"]["name"]
        == "Repeat sales"
    )
    assert call(portal, "crm.dealcategory.status", {"id": new_id}) == f"DEAL_STAGE_{new_id}"
    stages = call(portal, "crm.dealcategory.stage.list", {"id": new_id})
    assert stages[0] == {"NAME": "New", "SORT": "10", "STATUS_ID": f"C{new_id}:NEW"}
    assert [r["NAME"] for r in call(portal, "crm.dealcategory.list", {}).result] == ["Repeat sales"]
    assert call(portal, "crm.dealcategory.default.set", {"NAME": "Main"}) is True
    assert call(portal, "crm.dealcategory.default.get", {}) == {"ID": 0, "NAME": "Main"}
    assert error_of(portal, "crm.dealcategory.get", {"id": 99}) == {
        "error": "",
        "error_description": "Not found",
    }
    assert call(portal, "crm.dealcategory.delete", {"id": new_id}) is True
    assert (
        call(portal, "crm.status.list", {"filter": {"ENTITY_ID": f"DEAL_STAGE_{new_id}"}}).result
        == []
    )


def test_status_id_length_limits(portal):
    body = error_of(
        portal,
        "crm.status.add",
        {"fields": {"ENTITY_ID": "STATUS", "STATUS_ID": "X" * 22, "NAME": "Long", "SORT": 15}},
    )
    assert body == {"error": "", "error_description": "The field STATUS_ID is too long."}
    assert (
        call(
            portal,
            "crm.status.add",
            {"fields": {"ENTITY_ID": "STATUS", "STATUS_ID": "X" * 21, "NAME": "Ok", "SORT": 15}},
        )
        > 0
    )
    assert (
        call(
            portal,
            "crm.status.add",
            {"fields": {"ENTITY_ID": "SOURCE", "STATUS_ID": "S" * 40, "NAME": "Src"}},
        )
        > 0
    )
