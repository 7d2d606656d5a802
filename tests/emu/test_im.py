"""im.notify.*: results, validation, and the recorded notifications tests can read."""

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
    return p


def call(portal, name, params, user_id=1):
    auth = Auth(kind="oauth", user_id=user_id, scopes=frozenset({"im"}), client_id="app")
    return lookup(name).fn(Call(portal, auth, name, params))


def test_system_notification_is_recorded(portal):
    request = json.loads(
        (PAYLOADS / "im_notify_system_add_request.json").read_text(encoding="utf-8")
    )
    nid = call(portal, "im.notify.system.add", request, user_id=3)
    assert isinstance(nid, int)
    (note,) = portal.crm.notifications_for(5)
    assert (note["id"], note["type"], note["from_user_id"], note["message"], note["tag"]) == (
        nid,
        "system",
        None,
        "Lead [B]#123[/B] scored 87",
        "LEAD_SCORE|123",
    )


def test_personal_and_combined_forms(portal):
    call(portal, "im.notify.personal.add", {"USER_ID": 2, "MESSAGE": " hi "}, user_id=4)
    call(portal, "im.notify", {"USER_ID": 2, "MESSAGE": "sys", "TYPE": "SYSTEM"})
    notes = portal.crm.notifications_for(2)
    assert [(n["type"], n["from_user_id"], n["message"]) for n in notes] == [
        ("personal", 4, "hi"),
        ("system", None, "sys"),
    ]


def test_same_tag_replaces_earlier_notification(portal):
    call(portal, "im.notify.system.add", {"USER_ID": 2, "MESSAGE": "v1", "TAG": "T"})
    call(portal, "im.notify.system.add", {"USER_ID": 2, "MESSAGE": "v2", "TAG": "T"})
    assert [n["message"] for n in portal.crm.notifications_for(2)] == ["v2"]


@pytest.mark.parametrize(
    ("params", "code", "text"),
    [
        ({"MESSAGE": "x"}, "USER_ID_EMPTY", "User ID can't be empty"),
        ({"USER_ID": 2, "MESSAGE": "  "}, "MESSAGE_EMPTY", "Message can't be empty"),
        ({"USER_ID": 2, "MESSAGE": "x", "ATTACH": "{not json"}, "ATTACH_ERROR", None),
        ({"USER_ID": 2, "MESSAGE": "x", "ATTACH": "x" * 60001}, "ATTACH_OVERSIZE", None),
    ],
)
def test_errors(portal, params, code, text):
    with pytest.raises(RestError) as exc:
        call(portal, "im.notify.system.add", params)
    assert exc.value.code == code and (text is None or exc.value.description == text)
    assert portal.crm.notifications == []
