"""What a real portal will do to an installation, and how the next apply answers it.

An admin deletes one of our fields or stages by hand; the app is reinstalled over an old
installation (the portal wipes robots, bindings and placements, CRM configuration stays).
Each time the next apply restores what is missing and creates nothing twice.
"""

from __future__ import annotations

import pytest

from app.installers.mapping import resolve
from tests.app.test_installer_support import (
    CLIENT_ID,
    install,
    lead_fields,
    new_session,
    oauth_client,
    statuses,
    write_calls,
)
from tests.app.test_portal_support import memory_client, oauth_credentials


@pytest.fixture
def client(emulator, redis_url):
    return oauth_client(emulator, redis_url)


def test_a_field_an_admin_deleted_is_created_again(emulator, client):
    """api-reference/crm/leads/userfield/crm-lead-userfield-delete.md then
    crm-lead-userfield-add.md: the next apply re-creates the field under the same name, and
    the schema map points at the new field id."""
    session = new_session()
    install(session, client, ["metal"])
    before = lead_fields(client, "lead")["UF_CRM_MT_SITE"]
    client.call("crm.lead.userfield.delete", {"id": before["ID"]})
    assert "UF_CRM_MT_SITE" not in lead_fields(client, "lead")
    report = install(session, client, ["metal"])
    assert report.conflicts == []
    after = lead_fields(client, "lead")["UF_CRM_MT_SITE"]
    assert after["ID"] != before["ID"]
    assert resolve(session, "m-inst").field("UF_CRM_MT_SITE", "lead").id == str(after["ID"])
    assert install(session, client, ["metal"]).final_plan.empty


def test_a_stage_an_admin_deleted_is_created_again(emulator, client):
    """api-reference/crm/status/crm-status-delete.md then crm-status-add.md."""
    session = new_session()
    install(session, client, ["metal"])
    row = next(r for r in statuses(client, "STATUS") if r["STATUS_ID"] == "MT_DATA_MISS")
    client.call("crm.status.delete", {"id": row["ID"]})
    install(session, client, ["metal"])
    again = [r for r in statuses(client, "STATUS") if r["STATUS_ID"] == "MT_DATA_MISS"]
    assert len(again) == 1 and again[0]["NAME"] == "Не хватает данных"
    assert resolve(session, "m-inst").stage("metal.lead.data_missing") == "MT_DATA_MISS"
    assert install(session, client, ["metal"]).final_plan.empty


def test_reinstall_over_an_old_installation_restores_app_registrations_only(
    emulator, client, redis_url
):
    """settings/app-uninstallation.md: uninstalling removes the app's handlers, robots and
    placements but not CRM data; a reinstall re-registers them and adds no second copy of
    a field, stage, pipeline or smart process."""
    session = new_session()
    install(session, client, ["metal"])
    emulator.admin.post(f"apps/{CLIENT_ID}/uninstall", {"clean": True})
    emulator.admin.post(f"apps/{CLIENT_ID}/install", {"user_id": 1})
    tokens = emulator.admin.post(f"apps/{CLIENT_ID}/tokens", {"user_id": 1})
    client, _ = memory_client(oauth_credentials(tokens, "m-inst"), redis_url)
    assert "calc_area" not in client.call("bizproc.robot.list", {})
    emulator.admin.post("requests/reset")
    install(session, client, ["metal"])
    writes = write_calls(emulator)
    assert set(writes) <= {"bizproc.robot.add", "event.bind", "placement.bind"}, writes
    assert "calc_area" in client.call("bizproc.robot.list", {})
    types = [t["title"] for t in client.call("crm.type.list", {})["types"]]
    assert types.count("Объект") == 1
    assert install(session, client, ["metal"]).final_plan.empty


def test_rules_fail_safe_while_a_field_and_a_stage_are_missing(emulator, client):
    """Between an admin's deletion and the next apply: api-reference/crm/universal/
    crm-item-update.md "An incorrect field in `fields` will be ignored", so a write to the
    deleted field is dropped while the rest of the update lands; a move to the deleted stage
    is refused (the doc is silent on the code; the emulator answers
    CRM_FIELD_ERROR_VALUE_NOT_VALID) and only that action is recorded as failed."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from app.rules import actions as A
    from app.rules.apply import DONE, FAILED, apply_with
    from app.store.base import Base

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine)
    with sessions() as session:
        install(session, client, ["metal"])
        naming = resolve(session, "m-inst")
    site = lead_fields(client, "lead")["UF_CRM_MT_SITE"]
    client.call("crm.lead.userfield.delete", {"id": site["ID"]})
    row = next(r for r in statuses(client, "STATUS") if r["STATUS_ID"] == "MT_DATA_MISS")
    client.call("crm.status.delete", {"id": row["ID"]})
    lead = client.call("crm.item.add", {"entityTypeId": 1, "fields": {"title": "L"}})["item"]

    report = apply_with(
        sessions,
        client,
        naming,
        "m-inst",
        [
            A.UpdateFields("lead", lead["id"], {"title": "Renamed", "UF_CRM_MT_SITE": "Kazan"}),
            A.MoveStage("lead", lead["id"], "metal.lead.data_missing"),
        ],
        cause="test",
        rule="contract.r1",
        record=("lead", lead["id"]),
    )
    assert [o.status for o in report.outcomes] == [DONE, FAILED]
    now = client.call("crm.item.get", {"entityTypeId": 1, "id": lead["id"]})["item"]
    assert now["title"] == "Renamed" and now["stageId"] == "NEW"
    assert "ufCrmMtSite" not in now
