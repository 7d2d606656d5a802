"""crm.item.* called directly (no HTTP): shapes, typing, validation, events, paging."""

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
    p.events, p.stages = [], []
    p.emit = lambda name, data, user: p.events.append((name, data, user))
    p.stage_entered = lambda *args: p.stages.append(args)
    return p


def call(portal, name, params, user_id=1):
    auth = Auth(kind="oauth", user_id=user_id, scopes=frozenset({"crm"}), client_id="app")
    return lookup(name).fn(Call(portal, auth, name, params))


def error_of(portal, name, params):
    with pytest.raises(RestError) as exc:
        call(portal, name, params)
    return exc.value.body()


def payload(name):
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def test_deal_add_returns_the_documented_item_shape(portal):
    call(portal, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "Wholesale"}})
    call(
        portal,
        "crm.deal.userfield.add",
        {"fields": {"FIELD_NAME": "UF_CRM_1721244707107", "USER_TYPE_ID": "double"}},
    )
    request = payload("crm_item_add_request_deal.json")
    request["fields"].pop("parentId1220")  # no such smart process on this portal: ignored key
    item = call(portal, "crm.item.add", request)["item"]
    expected = payload("crm_item_add_response_deal.json")["result"]["item"]
    missing = set(expected) - set(item) - {"parentId1220"}
    assert not missing
    assert item["stageId"] == "C1:NEW" and item["categoryId"] == 1
    assert item["opportunity"] == 999.99 and item["ufCrm_1721244707107"] == 1111.1
    assert item["contactId"] == 4 and item["contactIds"] == [4, 5] and item["observers"] == [2, 3]
    assert item["begindate"] == "2024-06-18T02:00:00+02:00"  # date printed at the offset
    assert item["assignedById"] == 6 and item["createdBy"] == 1 and item["entityTypeId"] == 2
    assert "fm" not in item  # deals have no multifields
    assert portal.events == [("ONCRMDEALADD", {"FIELDS": {"ID": str(item["id"])}}, 1)]
    assert portal.stages == [(2, item["id"], 1, "C1:NEW", 1)]


def test_defaults_title_stage_and_null_typing(portal):
    item = call(portal, "crm.item.add", {"entityTypeId": 1, "fields": {"name": "Ann"}}, user_id=3)[
        "item"
    ]
    assert item["title"] == f"Lead #{item['id']}"
    assert item["stageId"] == "NEW" and item["stageSemanticId"] == "P"
    assert item["assignedById"] == 3 and item["opened"] == "Y"
    assert item["birthdate"] is None and item["companyId"] == 0
    assert item["fm"] == [] and item["hasPhone"] == "N"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"opportunity": "lots"}, "opportunity"),
        ({"stageId": "NOPE"}, "stageId"),
        ({"categoryId": 77}, "categoryId"),
        ({"assignedById": "x"}, "assignedById"),
        ({"begindate": "tomorrow"}, "begindate"),
    ],
)
def test_invalid_values_are_refused_and_nothing_is_stored(portal, fields, field):
    body = error_of(portal, "crm.item.add", {"entityTypeId": 2, "fields": fields})
    assert body == {
        "error": "CRM_FIELD_ERROR_VALUE_NOT_VALID",
        "error_description": f'Invalid value for field "{field}"',
    }
    assert portal.crm.items(2) == [] and portal.events == []


def test_stage_must_belong_to_the_pipeline(portal):
    body = error_of(portal, "crm.item.add", {"entityTypeId": 2, "fields": {"stageId": "C1:NEW"}})
    assert body["error_description"] == 'Invalid value for field "stageId"'


def test_multiple_field_needs_a_list(portal):
    body = error_of(portal, "crm.item.add", {"entityTypeId": 2, "fields": {"contactIds": "4"}})
    assert body == {
        "error": "100",
        "error_description": "Expected iterable value for multiple field, but got string instead",
    }


def test_missing_arguments_and_unknown_things(portal):
    assert (
        error_of(portal, "crm.item.add", {"fields": {}})["error_description"]
        == "Could not find value for parameter {entityTypeId}"
    )
    assert error_of(portal, "crm.item.add", {"entityTypeId": 2})["error"] == "100"
    assert error_of(portal, "crm.item.get", {"entityTypeId": 2, "id": 9}) == payload(
        "error_400_crm_item_NOT_FOUND.json"
    )
    assert error_of(portal, "crm.item.get", {"entityTypeId": 1222, "id": 1}) == payload(
        "error_400_crm_item_smart_process_not_found.json"
    )


def test_unknown_keys_are_ignored(portal):
    item = call(
        portal,
        "crm.item.add",
        {"entityTypeId": 2, "fields": {"title": "T", "noSuchField": 1, "ufCrmGhost": 2}},
    )["item"]
    assert item["title"] == "T" and "noSuchField" not in item and "ufCrmGhost" not in item


def test_update_fm_keyed_object_ops(portal):
    add = payload("crm_item_add_request_contact_with_fm.json")
    item = call(portal, "crm.item.add", add)["item"]
    email_id = next(v["id"] for v in item["fm"] if v["typeId"] == "EMAIL")
    phone_id = next(v["id"] for v in item["fm"] if v["typeId"] == "PHONE")
    fm = {
        str(email_id): {"typeId": "EMAIL", "valueType": "HOME", "value": "new@x.test"},
        str(phone_id): {"value": ""},  # no typeId: silently skipped
        "n0": {"typeId": "PHONE", "valueType": "WORK", "value": "+493012345678"},
    }
    updated = call(
        portal, "crm.item.update", {"entityTypeId": 3, "id": item["id"], "fields": {"fm": fm}}
    )["item"]
    values = {(v["typeId"], v["valueType"], v["value"]) for v in updated["fm"]}
    assert values == {
        ("EMAIL", "HOME", "new@x.test"),
        ("PHONE", "MOBILE", "+493076543210"),
        ("PHONE", "WORK", "+493012345678"),
    }
    deleted = call(
        portal,
        "crm.item.update",
        {
            "entityTypeId": 3,
            "id": item["id"],
            "fields": {"fm": {str(phone_id): {"typeId": "PHONE", "value": ""}}},
        },
    )["item"]
    assert all(v["id"] != phone_id for v in deleted["fm"])
    assert deleted["phone"] == "+493012345678"


def test_move_deal_to_another_pipeline(portal):
    call(portal, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "A"}})
    call(portal, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "B"}})
    deal = call(portal, "crm.item.add", {"entityTypeId": 2, "fields": {"title": "D"}})["item"]
    portal.events.clear()
    moved = call(
        portal,
        "crm.item.update",
        {"entityTypeId": 2, "id": deal["id"], "fields": {"categoryId": 2}},
        user_id=5,
    )["item"]
    assert moved["stageId"] == "C2:NEW" and moved["movedBy"] == 5
    assert (
        "ONCRMDEALMOVETOCATEGORY",
        {"FIELDS": {"ID": str(deal["id"]), "CATEGORY_ID": "2", "STAGE_ID": "C2:NEW"}},
        5,
    ) in portal.events
    assert portal.stages[-1] == (2, deal["id"], 2, "C2:NEW", 5)


def test_delete_fires_event_and_get_is_not_found(portal):
    deal = call(portal, "crm.item.add", {"entityTypeId": 2, "fields": {}})["item"]
    assert call(portal, "crm.item.delete", {"entityTypeId": 2, "id": deal["id"]}) == []
    assert portal.events[-1] == ("ONCRMDEALDELETE", {"FIELDS": {"ID": str(deal["id"])}}, 1)
    assert (
        error_of(portal, "crm.item.get", {"entityTypeId": 2, "id": deal["id"]})["error"]
        == "NOT_FOUND"
    )


def test_list_filter_or_select_order_and_paging(portal):
    portal.crm.bulk_seed(2, [{"title": f"deal {i}", "opportunity": i * 100} for i in range(1, 121)])
    page = call(
        portal,
        "crm.item.list",
        {
            "entityTypeId": 2,
            "filter": {">=opportunity": 5000},
            "select": ["id", "title"],
            "order": {"id": "ASC"},
            "start": 50,
        },
    )
    assert page.total == 71 and page.next is None and len(page.result["items"]) == 21
    assert page.result["items"][0] == {"id": 100, "title": "deal 100"}
    either = call(
        portal,
        "crm.item.list",
        {
            "entityTypeId": 2,
            "filter": {"0": {"logic": "OR", "0": {"id": 3}, "1": {"id": 7}}},
            "order": {"id": "DESC"},
            "select": ["id"],
        },
    )
    assert [i["id"] for i in either.result["items"]] == [7, 3]
    body = error_of(portal, "crm.item.list", {"entityTypeId": 2, "filter": {"bogus": 1}})
    assert body == {
        "error": "INVALID_ARG_VALUE",
        "error_description": "Invalid filter: field 'bogus' is not allowed in filter",
    }


def test_fast_export_loop_without_counting(portal):
    portal.crm.bulk_seed(1, [{"title": f"t{i}"} for i in range(1, 131)])
    seen, last = [], 0
    while True:
        page = call(
            portal,
            "crm.item.list",
            {
                "entityTypeId": 1,
                "order": {"id": "ASC"},
                "filter": {">id": last},
                "select": ["id"],
                "start": -1,
            },
        )
        assert page.total == 0 and page.next is None and page.counted_rows == 0
        items = page.result["items"]
        seen += [i["id"] for i in items]
        if len(items) < 50:
            break
        last = items[-1]["id"]
    assert seen == list(range(1, 131))


def test_bulk_seed_fires_no_events(portal):
    ids = portal.crm.bulk_seed(1, [{"title": "a"}, {"title": "b"}])
    assert ids == [1, 2] and portal.events == []
    assert call(portal, "crm.item.add", {"entityTypeId": 1, "fields": {}})["item"]["id"] == 3


def test_use_original_uf_names(portal):
    call(
        portal,
        "crm.lead.userfield.add",
        {"fields": {"FIELD_NAME": "SCORE", "USER_TYPE_ID": "integer"}},
    )
    item = call(portal, "crm.item.add", {"entityTypeId": 1, "fields": {"ufCrmScore": "42"}})["item"]
    assert item["ufCrmScore"] == 42
    raw = call(
        portal, "crm.item.get", {"entityTypeId": 1, "id": item["id"], "useOriginalUfNames": "Y"}
    )["item"]
    assert raw["UF_CRM_SCORE"] == 42 and "ufCrmScore" not in raw
    body = error_of(
        portal,
        "crm.item.update",
        {"entityTypeId": 1, "id": item["id"], "fields": {"ufCrmScore": "x"}},
    )
    assert body["error_description"] == 'Invalid value for field "ufCrmScore"'


def test_mandatory_user_field_is_enforced(portal):
    call(
        portal,
        "crm.deal.userfield.add",
        {"fields": {"FIELD_NAME": "REASON", "USER_TYPE_ID": "string", "MANDATORY": "Y"}},
    )
    body = error_of(portal, "crm.item.add", {"entityTypeId": 2, "fields": {"title": "x"}})
    assert body == {
        "error": "CRM_FIELD_ERROR_REQUIRED",
        "error_description": 'Field "ufCrmReason" is required',
    }
    assert portal.crm.items(2) == []
    assert (
        call(portal, "crm.item.add", {"entityTypeId": 2, "fields": {"ufCrmReason": "why"}})["item"][
            "ufCrmReason"
        ]
        == "why"
    )


def test_fields_describe_system_and_user_fields(portal):
    call(
        portal,
        "crm.lead.userfield.add",
        {"fields": {"FIELD_NAME": "UF_CRM_1721244707107", "USER_TYPE_ID": "double"}},
    )
    fields = call(portal, "crm.item.fields", {"entityTypeId": 1})["fields"]
    assert fields["stageId"]["upperName"] == "STATUS_ID"
    assert (fields["stageId"]["statusType"], fields["sourceId"]["statusType"]) == (
        "STATUS",
        "SOURCE",
    )
    assert (
        fields["createdTime"]["isReadOnly"] is True and fields["createdTime"]["type"] == "datetime"
    )
    uf = fields["ufCrm_1721244707107"]
    assert (uf["isDynamic"], uf["type"], uf["upperName"]) == (
        True,
        "double",
        "UF_CRM_1721244707107",
    )
    original = call(portal, "crm.item.fields", {"entityTypeId": 1, "useOriginalUfNames": "Y"})[
        "fields"
    ]
    assert "UF_CRM_1721244707107" in original and "ufCrm_1721244707107" not in original


def test_child_relation_gives_parent_field_to_classic_types(portal):
    spa = call(
        portal,
        "crm.type.add",
        {
            "fields": {
                "title": "Object",
                "entityTypeId": 1222,
                "relations": {"child": [{"entityTypeId": 1, "isChildrenListEnabled": "true"}]},
            }
        },
    )["type"]
    assert spa["relations"]["child"] == [
        {"entityTypeId": 1, "isChildrenListEnabled": "Y", "isPredefined": "N"}
    ]
    obj = call(portal, "crm.item.add", {"entityTypeId": 1222, "fields": {"title": "House"}})["item"]
    lead = call(portal, "crm.item.add", {"entityTypeId": 1, "fields": {"parentId1222": obj["id"]}})[
        "item"
    ]
    assert lead["parentId1222"] == obj["id"]
    assert call(portal, "crm.lead.get", {"id": lead["id"]})["PARENT_ID_1222"] == str(obj["id"])
    found = call(
        portal,
        "crm.item.list",
        {"entityTypeId": 1, "filter": {"parentId1222": obj["id"]}, "select": ["id"]},
    )
    assert found.result["items"] == [{"id": lead["id"]}]


def test_document_field_for_robot_templates(portal):
    lead = portal.crm.incoming_lead("call", user_id=3, title="Call from +7", phone="+7 900")
    assert portal.crm.document_field(1, lead["id"], "TITLE") == "Call from +7"
    assert portal.crm.document_field(1, lead["id"], "ASSIGNED_BY_ID") == "3"
    assert portal.crm.document_field(1, lead["id"], "SOURCE_ID") == "CALL"
    assert portal.crm.document_field(1, 999, "TITLE") is None


def test_store_survives_pickling(portal):
    import pickle

    lead = portal.crm.incoming_lead("email", email="a@b.test")
    portal.emit = portal.stage_entered = None  # hooks are not part of the saved state
    restored = pickle.loads(pickle.dumps(portal))
    assert restored.crm.get_item(1, lead["id"])["email"] == "a@b.test"
    assert restored.crm.comms.find("EMAIL", "A@B.test") == {(1, lead["id"])}


def test_reverse_export_by_id_desc(portal):
    portal.crm.bulk_seed(1, [{"title": f"t{i}"} for i in range(1, 61)])
    page = call(
        portal,
        "crm.item.list",
        {
            "entityTypeId": 1,
            "order": {"id": "DESC"},
            "filter": {"<id": 58, ">=id": 3},
            "select": ["id"],
            "start": -1,
        },
    )
    assert [i["id"] for i in page.result["items"]] == list(range(57, 7, -1))
    counted = call(
        portal,
        "crm.item.list",
        {"entityTypeId": 1, "order": {"id": "DESC"}, "filter": {"<=id": 5}, "select": ["id"]},
    )
    assert [i["id"] for i in counted.result["items"]] == [5, 4, 3, 2, 1] and counted.total == 5


def test_stage_dependent_required_fields(portal):
    call(
        portal,
        "crm.lead.userfield.add",
        {"fields": {"FIELD_NAME": "BUDGET", "USER_TYPE_ID": "double"}},
    )
    portal.crm.require_on_stage(1, "UF_CRM_BUDGET", "IN_PROCESS")
    lead = call(portal, "crm.item.add", {"entityTypeId": 1, "fields": {"title": "x"}})["item"]
    body = error_of(
        portal,
        "crm.item.update",
        {"entityTypeId": 1, "id": lead["id"], "fields": {"stageId": "PROCESSED"}},
    )
    assert body == {
        "error": "CRM_FIELD_ERROR_REQUIRED",
        "error_description": 'Field "ufCrmBudget" is required',
    }
    with pytest.raises(RestError) as legacy:
        lookup("crm.lead.update").fn(
            Call(
                portal,
                Auth(kind="webhook", user_id=1, scopes=frozenset({"crm"})),
                "crm.lead.update",
                {"id": lead["id"], "fields": {"STATUS_ID": "IN_PROCESS"}},
            )
        )
    assert legacy.value.body() == {
        "error": "",
        "error_description": 'Field "UF_CRM_BUDGET" is required',
    }
    assert (
        call(portal, "crm.item.get", {"entityTypeId": 1, "id": lead["id"]})["item"]["stageId"]
        == "NEW"
    )
    junk = call(
        portal,
        "crm.item.update",
        {"entityTypeId": 1, "id": lead["id"], "fields": {"stageId": "JUNK"}},
    )["item"]
    assert junk["stageId"] == "JUNK"  # failure stages stay reachable
    done = call(
        portal,
        "crm.item.update",
        {"entityTypeId": 1, "id": lead["id"], "fields": {"stageId": "PROCESSED", "ufCrmBudget": 5}},
    )["item"]
    assert done["stageId"] == "PROCESSED"


def test_stage_move_records_mover_and_previous_stage(portal):
    call(
        portal,
        "crm.type.add",
        {"fields": {"title": "S", "entityTypeId": 1030, "isStagesEnabled": "Y"}},
    )
    item = call(portal, "crm.item.add", {"entityTypeId": 1030, "fields": {}}, user_id=1)["item"]
    first_stage = item["stageId"]
    portal.clock.offset += 60
    moved = call(
        portal,
        "crm.item.update",
        {
            "entityTypeId": 1030,
            "id": item["id"],
            "fields": {"stageId": first_stage.replace("NEW", "PREPARATION")},
        },
        user_id=4,
    )["item"]
    assert moved["movedBy"] == 4 and moved["movedTime"] > item["movedTime"]
    assert moved["previousStageId"] == first_stage
    assert portal.stages[-1] == (1030, item["id"], item["categoryId"], moved["stageId"], 4)
    same = call(
        portal,
        "crm.item.update",
        {"entityTypeId": 1030, "id": item["id"], "fields": {"title": "t"}},
        user_id=2,
    )["item"]
    assert same["movedBy"] == 4 and len(portal.stages) == 2


def test_update_requires_fields(portal):
    deal = call(portal, "crm.item.add", {"entityTypeId": 2, "fields": {}})["item"]
    body = error_of(portal, "crm.item.update", {"entityTypeId": 2, "id": deal["id"]})
    assert body == {
        "error": "100",
        "error_description": "Could not find value for parameter {fields}",
    }
    assert (
        error_of(portal, "crm.item.update", {"entityTypeId": 2, "fields": {"title": "x"}})[
            "error_description"
        ]
        == "Could not find value for parameter {id}"
    )


def test_fields_status_types_follow_the_default_pipeline(portal):
    deal_fields = call(portal, "crm.item.fields", {"entityTypeId": 2})["fields"]
    assert (deal_fields["stageId"]["statusType"], deal_fields["typeId"]["statusType"]) == (
        "DEAL_STAGE",
        "DEAL_TYPE",
    )
    call(
        portal,
        "crm.type.add",
        {"fields": {"title": "S", "entityTypeId": 1030, "isStagesEnabled": "Y"}},
    )
    cat = call(portal, "crm.category.list", {"entityTypeId": 1030}).result["categories"][0]["id"]
    spa_fields = call(portal, "crm.item.fields", {"entityTypeId": 1030})["fields"]
    assert spa_fields["stageId"]["statusType"] == f"DYNAMIC_1030_STAGE_{cat}"


def test_incremental_sync_by_updated_time(portal):
    first = call(portal, "crm.item.add", {"entityTypeId": 2, "fields": {"title": "a"}})["item"]
    call(portal, "crm.item.add", {"entityTypeId": 2, "fields": {"title": "b"}})
    portal.clock.offset += 120
    changed = call(
        portal, "crm.item.update", {"entityTypeId": 2, "id": first["id"], "fields": {"title": "a2"}}
    )["item"]
    since = first["updatedTime"]  # ISO with the portal offset, as the app stored it
    page = call(
        portal,
        "crm.item.list",
        {
            "entityTypeId": 2,
            "filter": {">updatedTime": since},
            "order": {"updatedTime": "ASC", "id": "ASC"},
            "select": ["id", "updatedTime"],
        },
    )
    assert page.result["items"] == [{"id": first["id"], "updatedTime": changed["updatedTime"]}]
    utc = since.replace("+02:00", "+00:00")  # same wall clock two hours later: nothing newer
    assert (
        call(portal, "crm.item.list", {"entityTypeId": 2, "filter": {">updatedTime": utc}}).total
        == 0
    )
    legacy = lookup("crm.deal.list").fn(
        Call(
            portal,
            Auth(kind="webhook", user_id=1, scopes=frozenset({"crm"})),
            "crm.deal.list",
            {"filter": {">DATE_MODIFY": since}, "select": ["ID"]},
        )
    )
    assert legacy.result == [{"ID": str(first["id"])}]
