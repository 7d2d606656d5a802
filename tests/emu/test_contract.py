"""Conformance: where b24restdocs and our app/emulator differed, both now follow the doc.

Each test names the doc page (a path in the ``bitrix24/b24restdocs`` repository) it
reproduces; ``docs/portal-contract.md`` lists the rows these tests back.
"""

from __future__ import annotations

import pytest

from tests.app.test_installer_support import install, new_session, oauth_client


@pytest.fixture
def client(emulator, redis_url):
    return oauth_client(emulator, redis_url)


def _spa_enum_field(client):
    etid_type = client.call("crm.type.add", {"fields": {"title": "Contract SPA"}})["type"]
    field = client.call(
        "userfieldconfig.add",
        {
            "moduleId": "crm",
            "field": {
                "entityId": f"CRM_{etid_type['id']}",
                "fieldName": f"UF_CRM_{etid_type['id']}_KIND",
                "userTypeId": "enumeration",
                "editFormLabel": {"en": "Kind"},
                "enum": [{"value": "One", "xmlId": "one"}],
            },
        },
    )["field"]
    return field


def _values(client, field_id) -> list[str]:
    got = client.call("userfieldconfig.get", {"moduleId": "crm", "id": field_id})["field"]
    return [o["value"] for o in got.get("enum") or []]


def test_userfieldconfig_update_needs_usertypeid_for_enum(client):
    """api-reference/crm/universal/userfieldconfig/userfieldconfig-update.md: "To apply
    changes to `enum`, `field.userTypeId` must be set to `enumeration`"."""
    field = _spa_enum_field(client)
    new = {"value": "Two", "xmlId": "two"}
    client.call("userfieldconfig.update", {"moduleId": "crm", "id": field["id"],
                                           "field": {"enum": [new]}})  # fmt: skip
    assert _values(client, field["id"]) == ["One"]
    client.call(
        "userfieldconfig.update",
        {"moduleId": "crm", "id": field["id"],
         "field": {"userTypeId": "enumeration", "enum": [new]}},
    )  # fmt: skip
    assert _values(client, field["id"]) == ["One", "Two"]


def test_installer_restores_a_deleted_list_value_of_a_smart_process_field(client):
    """api-reference/crm/universal/userfieldconfig/userfieldconfig-update.md: the installer's
    enum update carries ``userTypeId: enumeration``, so a value an admin deleted comes back."""
    session = new_session()
    install(session, client, ["metal"])
    rows = client.call("userfieldconfig.list", {"moduleId": "crm"})["fields"]
    row = next(r for r in rows if r["fieldName"].endswith("_OBJ_PURPOSE"))
    agro = next(o for o in row["enum"] if o["xmlId"] == "agro")
    client.call(
        "userfieldconfig.update",
        {"moduleId": "crm", "id": row["id"],
         "field": {"userTypeId": "enumeration", "enum": [{"id": agro["id"], "del": "Y"}]}},
    )  # fmt: skip
    assert "agro" not in {o["xmlId"] for o in _enum(client, row["id"])}
    report = install(session, client, ["metal"])
    assert report.conflicts == []
    assert "agro" in {o["xmlId"] for o in _enum(client, row["id"])}


def _enum(client, field_id):
    return client.call("userfieldconfig.get", {"moduleId": "crm", "id": field_id})["field"]["enum"]
