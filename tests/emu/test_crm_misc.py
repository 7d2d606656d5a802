"""Duplicates, timeline comments, activities, to-dos, triggers, settings mode, seeding."""

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


def call(portal, name, params, user_id=1, kind="oauth"):
    auth = Auth(
        kind=kind,
        user_id=user_id,
        scopes=frozenset({"crm"}),
        client_id="app" if kind == "oauth" else None,
        webhook_code="c",
    )
    return lookup(name).fn(Call(portal, auth, name, params))


def error_of(portal, name, params, **kw):
    with pytest.raises(RestError) as exc:
        call(portal, name, params, **kw)
    return exc.value


def payload(name):
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


def test_findbycomm_normalises_phones(portal):
    a = call(
        portal,
        "crm.contact.add",
        {"fields": {"NAME": "A", "PHONE": [{"VALUE": "+49 (30) 123-45-67", "VALUE_TYPE": "WORK"}]}},
    )
    b = call(
        portal,
        "crm.contact.add",
        {"fields": {"NAME": "B", "PHONE": [{"VALUE": "11223355 ext. 12", "VALUE_TYPE": "WORK"}]}},
    )
    call(
        portal,
        "crm.lead.add",
        {"fields": {"TITLE": "L", "PHONE": [{"VALUE": "+49301234567", "VALUE_TYPE": "WORK"}]}},
    )
    assert call(
        portal, "crm.duplicate.findbycomm", payload("crm_duplicate_findbycomm_request.json")
    ) == {"CONTACT": [a, b]}
    both = call(portal, "crm.duplicate.findbycomm", {"type": "PHONE", "values": ["493012345 67"]})
    assert both == {"LEAD": [1], "CONTACT": [a]}
    assert (
        call(portal, "crm.duplicate.findbycomm", {"type": "EMAIL", "values": ["nobody@x.test"]})
        == []
    )


def test_findbycomm_errors(portal):
    assert error_of(portal, "crm.duplicate.findbycomm", {"values": ["1"]}).body() == {
        "error": "",
        "error_description": "Communication type is not defined",
    }
    assert (
        "not supported"
        in error_of(
            portal, "crm.duplicate.findbycomm", {"type": "WEB", "values": ["1"]}
        ).description
    )
    assert (
        error_of(portal, "crm.duplicate.findbycomm", {"type": "PHONE"}).description
        == "Communication values is not defined"
    )
    assert (
        error_of(
            portal,
            "crm.duplicate.findbycomm",
            {"type": "PHONE", "values": [str(i) for i in range(21)]},
        ).code
        == ""
    )


def test_findbycomm_email_is_case_insensitive(portal):
    company = call(
        portal,
        "crm.item.add",
        {
            "entityTypeId": 4,
            "fields": {"title": "C", "fm": [{"typeId": "EMAIL", "value": "Info@ACME.test"}]},
        },
    )["item"]
    assert call(
        portal,
        "crm.duplicate.findbycomm",
        {"type": "EMAIL", "values": ["info@acme.test"], "entity_type": "COMPANY"},
    ) == {"COMPANY": [company["id"]]}


def test_timeline_comment_add_and_list(portal):
    deal = call(portal, "crm.item.add", {"entityTypeId": 2, "fields": {}})["item"]
    request = payload("crm_timeline_comment_add_request.json")
    request["fields"]["ENTITY_ID"] = deal["id"]
    comment_id = call(portal, "crm.timeline.comment.add", request, user_id=4)
    assert isinstance(comment_id, int)
    assert portal.events[-1] == ("ONCRMTIMELINECOMMENTADD", {"ID": comment_id}, 4)
    rows = call(
        portal,
        "crm.timeline.comment.list",
        {"filter": {"ENTITY_ID": deal["id"], "ENTITY_TYPE": "deal"}},
    ).result
    assert [(r["COMMENT"], r["AUTHOR_ID"]) for r in rows] == [("Scored: [B]87[/B]", "4")]
    request["fields"]["ENTITY_ID"] = 999
    assert error_of(portal, "crm.timeline.comment.add", request).code == "OWNER_NOT_FOUND"


def test_activity_lifecycle_and_events(portal):
    lead = call(portal, "crm.item.add", {"entityTypeId": 1, "fields": {}})["item"]
    fields = {
        "OWNER_TYPE_ID": 1,
        "OWNER_ID": lead["id"],
        "TYPE_ID": 4,
        "SUBJECT": "Offer",
        "DIRECTION": 2,
        "COMMUNICATIONS": [{"VALUE": "a@b.test", "ENTITY_ID": lead["id"], "ENTITY_TYPE_ID": 1}],
        "START_TIME": "2025-01-01T10:00:00+03:00",
    }
    activity_id = call(portal, "crm.activity.add", {"fields": fields})
    assert portal.events[-1] == ("ONCRMACTIVITYADD", {"FIELDS": {"ID": str(activity_id)}}, 1)
    got = call(portal, "crm.activity.get", {"id": activity_id})
    assert (got["TYPE_ID"], got["COMPLETED"], got["START_TIME"]) == (
        "4",
        "N",
        "2025-01-01T10:00:00+03:00",
    )
    assert got["COMMUNICATIONS"][0]["VALUE"] == "a@b.test"
    call(portal, "crm.activity.update", {"id": activity_id, "fields": {"COMPLETED": "Y"}})
    assert portal.events[-1][0] == "ONCRMACTIVITYUPDATE"
    listed = call(
        portal, "crm.activity.list", {"filter": {"OWNER_ID": lead["id"], "COMPLETED": "Y"}}
    )
    assert [r["ID"] for r in listed.result] == [str(activity_id)]
    email_without_comms = dict(fields, COMMUNICATIONS=[])
    assert (
        error_of(portal, "crm.activity.add", {"fields": email_without_comms}).description
        == "The field COMMUNICATIONS is required."
    )
    sms = {
        "OWNER_TYPE_ID": 1,
        "OWNER_ID": lead["id"],
        "TYPE_ID": 6,
        "PROVIDER_ID": "REST_APP",
        "PROVIDER_TYPE_ID": "SMS",
        "SUBJECT": "SMS",
    }
    assert (
        call(portal, "crm.activity.get", {"id": call(portal, "crm.activity.add", {"fields": sms})})[
            "PROVIDER_TYPE_ID"
        ]
        == "SMS"
    )
    call(portal, "crm.activity.delete", {"id": activity_id})
    assert error_of(portal, "crm.activity.get", {"id": activity_id}).body() == {
        "error": "",
        "error_description": "Not found",
    }


def test_todo_add(portal):
    deal = call(portal, "crm.item.add", {"entityTypeId": 2, "fields": {}})["item"]
    request = payload("crm_activity_todo_add_request.json")
    request["ownerId"] = deal["id"]
    result = call(portal, "crm.activity.todo.add", request)
    assert set(result) == {"id"} and isinstance(result["id"], int)
    activity = call(portal, "crm.activity.get", {"id": result["id"]})
    assert (activity["SUBJECT"], activity["RESPONSIBLE_ID"], activity["DEADLINE"]) == (
        "Call back",
        "5",
        "2025-02-03T15:00:00+03:00",
    )
    assert (
        error_of(portal, "crm.activity.todo.add", {"ownerTypeId": 2, "ownerId": deal["id"]}).code
        == "100"
    )
    assert (
        error_of(portal, "crm.activity.todo.add", dict(request, ownerId=999)).code
        == "OWNER_NOT_FOUND"
    )


def test_triggers_move_items_to_the_stage_holding_them(portal):
    deal = call(portal, "crm.item.add", {"entityTypeId": 2, "fields": {}})["item"]
    assert (
        call(portal, "crm.automation.trigger.add", {"CODE": "payment_received", "NAME": "Paid"})
        is True
    )
    assert call(portal, "crm.automation.trigger.list", {}) == [
        {"NAME": "Paid", "CODE": "payment_received"}
    ]
    portal.crm.place_trigger(2, "WON", "payment_received", category_id=0)
    request = payload("crm_automation_trigger_execute_request.json")
    request.pop("auth")
    request["OWNER_ID"] = deal["id"]
    assert call(portal, "crm.automation.trigger.execute", request) is True
    assert (
        call(portal, "crm.item.get", {"entityTypeId": 2, "id": deal["id"]})["item"]["stageId"]
        == "WON"
    )
    assert (
        error_of(portal, "crm.automation.trigger.execute", dict(request, CODE="nope")).description
        == "Trigger with code nope is not registered."
    )
    assert (
        error_of(
            portal, "crm.automation.trigger.add", {"CODE": "Bad Code", "NAME": "x"}
        ).description
        == "Wrong trigger code!"
    )
    denied = error_of(
        portal, "crm.automation.trigger.add", {"CODE": "x", "NAME": "x"}, kind="webhook"
    )
    assert (denied.status, denied.code) == (403, "ACCESS_DENIED")
    assert call(portal, "crm.automation.trigger.delete", {"CODE": "payment_received"}) is True


def test_settings_mode(portal):
    assert call(portal, "crm.settings.mode.get", {}) == 1
    portal.crm.mode = 2
    assert call(portal, "crm.settings.mode.get", {}) == 2


@pytest.mark.parametrize(
    ("channel", "source"),
    [("webform", "WEBFORM"), ("email", "EMAIL"), ("call", "CALL"), ("manual", None)],
)
def test_incoming_lead_channels(portal, channel, source):
    lead = portal.crm.incoming_lead(
        channel, user_id=2, name="Eve", phone="+7 900 000-00-00", email="eve@x.test"
    )
    got = call(portal, "crm.lead.get", {"id": lead["id"]})
    assert got["SOURCE_ID"] == source and got["NAME"] == "Eve"
    assert (
        got["PHONE"][0]["VALUE"] == "+7 900 000-00-00" and got["EMAIL"][0]["VALUE"] == "eve@x.test"
    )
    assert portal.events == [("ONCRMLEADADD", {"FIELDS": {"ID": str(lead["id"])}}, 2)]


def test_activity_moves_owner_last_activity_without_update_event(portal):
    deal = call(portal, "crm.item.add", {"entityTypeId": 2, "fields": {}})["item"]
    portal.clock.offset += 3600
    portal.events.clear()
    call(
        portal,
        "crm.activity.add",
        {"fields": {"OWNER_TYPE_ID": 2, "OWNER_ID": deal["id"], "TYPE_ID": 2, "SUBJECT": "Call"}},
        user_id=3,
    )
    after = call(portal, "crm.item.get", {"entityTypeId": 2, "id": deal["id"]})["item"]
    assert after["lastActivityBy"] == 3 and after["lastActivityTime"] > deal["lastActivityTime"]
    assert after["updatedTime"] == deal["updatedTime"]
    assert [name for name, _, _ in portal.events] == ["ONCRMACTIVITYADD"]
    assert portal.crm.api_item(2, portal.crm.get_item(2, deal["id"])) == after


def test_incoming_inquiry_in_simple_mode_becomes_contact_and_deal(portal):
    portal.crm.mode = 2
    deal = portal.crm.incoming_lead("webform", user_id=2, title="Form", name="Zoe", phone="+7 901")
    assert portal.crm.items(1) == []
    got = call(portal, "crm.deal.get", {"id": deal["id"]})
    assert (got["TITLE"], got["SOURCE_ID"], got["ASSIGNED_BY_ID"]) == ("Form", "WEBFORM", "2")
    contact = call(portal, "crm.contact.get", {"id": got["CONTACT_ID"]})
    assert contact["NAME"] == "Zoe" and contact["PHONE"][0]["VALUE"] == "+7 901"
    assert [name for name, _, _ in portal.events] == ["ONCRMCONTACTADD", "ONCRMDEALADD"]


def test_timeline_comment_get_update_delete(portal):
    deal = call(portal, "crm.item.add", {"entityTypeId": 2, "fields": {}})["item"]
    cid = call(
        portal,
        "crm.timeline.comment.add",
        {"fields": {"ENTITY_ID": deal["id"], "ENTITY_TYPE": "deal", "COMMENT": "one"}},
    )
    call(
        portal, "crm.timeline.comment.update", {"id": cid, "fields": {"COMMENT": "two"}}, user_id=2
    )
    assert call(portal, "crm.timeline.comment.get", {"id": cid})["COMMENT"] == "two"
    assert portal.events[-1] == ("ONCRMTIMELINECOMMENTUPDATE", {"ID": cid}, 2)
    assert call(portal, "crm.timeline.comment.delete", {"id": cid}) is None
    assert error_of(portal, "crm.timeline.comment.get", {"id": cid}).code == "NOT_FOUND"


def test_russian_phone_forms_are_duplicates(portal):
    contact = call(
        portal,
        "crm.contact.add",
        {
            "fields": {
                "NAME": "R",
                "PHONE": [{"VALUE": "8 (900) 123-45-67", "VALUE_TYPE": "MOBILE"}],
            }
        },
    )
    for form in ("+7 900 123 45 67", "89001234567", "9001234567"):
        assert call(portal, "crm.duplicate.findbycomm", {"type": "PHONE", "values": [form]}) == {
            "CONTACT": [contact]
        }
    assert (
        call(portal, "crm.duplicate.findbycomm", {"type": "PHONE", "values": ["+1 900 123 45 67"]})
        == []
    )
