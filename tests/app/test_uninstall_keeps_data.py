"""Uninstall keeps the client's data (``app.installers.uninstall``): by default only the
app's tabs, robots and event bindings go; fields with their values, stages, pipelines and
smart processes stay, and a reinstall adopts them. ``--purge`` deletes the app's fields
after a dry run that counts the values that would go. Against the emulator over HTTP."""

from __future__ import annotations

import pytest

from app.installers.uninstall import count_values, remove_owned
from app.store import schema_objects
from tests.app.test_installer_support import (
    install,
    lead_fields,
    new_session,
    oauth_client,
    statuses,
)


@pytest.fixture
def client(emulator, redis_url):
    return oauth_client(emulator, redis_url)


def _lead_with_width(client, width):
    item = client.call(
        "crm.item.add", {"entityTypeId": 1, "fields": {"title": "Ангар", "ufCrmMtWidth": width}}
    )["item"]
    return item["id"]


def test_uninstall_keeps_fields_values_stages_and_pipelines(emulator, client):
    session = new_session()
    install(session, client, ["metal"])
    lead = _lead_with_width(client, 12.5)
    _lead_with_width(client, None)

    report = remove_owned(session, client, "m-inst")

    assert report.failed == []
    assert "calc_area" not in client.call("bizproc.robot.list", {})
    assert not [b for b in client.call("event.get", {}) if b["event"] == "ONCRMLEADADD"]
    assert {"UF_CRM_MT_WIDTH", "UF_CRM_MT_PURPOSE"} <= set(lead_fields(client, "lead"))
    item = client.call("crm.item.get", {"entityTypeId": 1, "id": lead})["item"]
    assert float(item["ufCrmMtWidth"]) == 12.5
    assert "MT_DATA_MISS" in {r["STATUS_ID"] for r in statuses(client, "STATUS")}
    assert [t for t in client.call("crm.type.list", {})["types"] if t["title"] == "Объект"]
    assert any("with every value in them" in line for line in report.kept)
    assert any("pipeline" in line for line in report.kept)
    # the store still knows them: a reinstall adopts, it does not create twice
    known = schema_objects.load(session, "m-inst")
    assert ("field", "lead:UF_CRM_MT_WIDTH") in known and ("robot", "calc_area") not in known
    again = install(session, client, ["metal"])
    assert "add field" not in again.written and again.written.get("add robot")


def test_purge_dry_run_counts_the_values_then_purge_deletes_the_fields(emulator, client):
    session = new_session()
    install(session, client, ["metal"])
    _lead_with_width(client, 12.5)
    _lead_with_width(client, 8)
    _lead_with_width(client, None)

    counts = {(e, c): n for e, c, n in count_values(session, client, "m-inst")}
    assert counts[("lead", "UF_CRM_MT_WIDTH")] == 2
    assert counts[("lead", "UF_CRM_MT_LENGTH")] == 0
    assert "UF_CRM_MT_WIDTH" in lead_fields(client, "lead")  # counting changed nothing

    report = remove_owned(session, client, "m-inst", purge=True)
    assert report.failed == []
    assert "UF_CRM_MT_WIDTH" not in lead_fields(client, "lead")
    assert not any("with every value" in line for line in report.kept)
