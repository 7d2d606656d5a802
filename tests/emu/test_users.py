"""user.current, user.get and department.get over the seeded users and departments."""

from __future__ import annotations

import json

import pytest

from b24emu.methods import load_all
from b24emu.registry import Auth, Call, RestError, lookup
from b24emu.state import Portal
from tests.shared_docs import SHARED_PAYLOADS

PAYLOADS = SHARED_PAYLOADS


@pytest.fixture
def portal():
    load_all()
    p = Portal(member_id="m" * 32, domain="example.test")
    p.users = {
        1: {
            "ID": "1",
            "NAME": "Admin",
            "LAST_NAME": "",
            "EMAIL": "a@x.test",
            "ACTIVE": True,
            "UF_DEPARTMENT": [1],
            "ADMIN": True,
        },
        3: {
            "ID": "3",
            "NAME": "John",
            "LAST_NAME": "Smith",
            "EMAIL": "j@x.test",
            "ACTIVE": True,
            "UF_DEPARTMENT": [3],
            "ADMIN": False,
        },
        4: {
            "ID": "4",
            "NAME": "Gone",
            "LAST_NAME": "Away",
            "EMAIL": "g@x.test",
            "ACTIVE": False,
            "UF_DEPARTMENT": [3],
            "ADMIN": False,
        },
    }
    p.departments = {
        1: {"ID": "1", "NAME": "Example Inc.", "SORT": 500, "PARENT": "", "UF_HEAD": ""},
        3: {"ID": "3", "NAME": "Sales Department", "SORT": 500, "PARENT": "1", "UF_HEAD": "5"},
    }
    return p


def call(portal, name, params, user_id=1):
    auth = Auth(
        kind="oauth", user_id=user_id, scopes=frozenset({"user", "department"}), client_id="app"
    )
    return lookup(name).fn(Call(portal, auth, name, params))


def test_user_current_shape(portal):
    me = call(portal, "user.current", {}, user_id=3)
    documented = json.loads((PAYLOADS / "user_current_response.json").read_text(encoding="utf-8"))[
        "result"
    ]
    assert set(documented) <= set(me)
    assert (me["ID"], me["ACTIVE"], me["UF_DEPARTMENT"], me["IS_ONLINE"]) == ("3", True, [3], "N")
    assert "ADMIN" not in me


def test_user_current_unknown_user(portal):
    with pytest.raises(RestError):
        call(portal, "user.current", {}, user_id=99)


def test_user_get_filters(portal):
    assert [u["ID"] for u in call(portal, "user.get", {"FILTER": {"UF_DEPARTMENT": 3}}).result] == [
        "3",
        "4",
    ]
    assert [
        u["ID"]
        for u in call(portal, "user.get", {"FILTER": {"UF_DEPARTMENT": 3, "ACTIVE": True}}).result
    ] == ["3"]
    assert [u["ID"] for u in call(portal, "user.get", {"ACTIVE": "Y"}).result] == [
        "1",
        "3",
    ]  # top-level legacy filter
    assert [u["ID"] for u in call(portal, "user.get", {"FILTER": {"ID": 4}}).result] == ["4"]
    assert [
        u["ID"] for u in call(portal, "user.get", {"FILTER": {"NAME_SEARCH": "smi"}}).result
    ] == ["3"]
    page = call(portal, "user.get", {})
    assert page.total == 3 and page.next is None


def test_department_get(portal):
    documented = json.loads((PAYLOADS / "department_get_response.json").read_text(encoding="utf-8"))
    page = call(portal, "department.get", {})
    assert page.result == documented["result"] and page.total == documented["total"]
    assert [d["ID"] for d in call(portal, "department.get", {"PARENT": 1}).result] == ["3"]


def test_user_current_accepts_any_user_scope_over_http(emulator):
    import requests

    brief = emulator.webhook_url(user_id=1, scopes=["user_brief"])
    body = requests.post(f"{brief}user.current", json={}, timeout=10).json()
    assert body["result"]["ID"] == "1" and body["result"]["ACTIVE"] is True
    crm_only = emulator.webhook_url(user_id=1, scopes=["crm"])
    denied = requests.post(f"{crm_only}user.current", json={}, timeout=10)
    assert denied.json()["error"] == "insufficient_scope"


def test_user_get_select_returns_only_the_named_fields(portal):
    """api-reference/user/user-get.md: ``select`` names the fields to return (``*`` all,
    ``UF_*`` the custom ones); names that do not exist are skipped without an error."""
    rows = call(portal, "user.get", {"select": ["ID", "NAME", "TIME_ZONE", "NOPE"]}).result
    assert rows[1] == {"ID": "3", "NAME": "John", "TIME_ZONE": ""}
    custom = call(portal, "user.get", {"select": ["ID", "UF_*"], "FILTER": {"ID": 3}}).result
    assert custom == [{"ID": "3", "UF_DEPARTMENT": [3], "UF_EMPLOYMENT_DATE": ""}]
    assert "EMAIL" in call(portal, "user.get", {"select": ["*"]}).result[0]
