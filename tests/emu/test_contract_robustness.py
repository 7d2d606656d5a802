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


def _moved_client(emulator, redis_url, allow_portal):
    from dataclasses import replace

    import redis

    from app.portal import MemoryTokenStore, client_from_parts
    from tests.app.test_portal_support import CLIENT_SECRET, FAST, install_oauth_app

    tokens = install_oauth_app(emulator, "local.renamed.1")
    creds = replace(
        oauth_credentials(tokens, tokens["member_id"]),
        client_endpoint="http://old-name.invalid/rest/",
        domain="old-name.invalid",
    )
    store = MemoryTokenStore(creds)
    client = client_from_parts(
        store, creds.member_id, redis.Redis.from_url(redis_url), None,
        allow_portal=allow_portal, client_id="local.renamed.1", client_secret=CLIENT_SECRET,
        **FAST,
    )  # fmt: skip
    return client, store, creds, tokens


def test_a_renamed_portal_is_followed_through_the_token_answer(emulator, redis_url):
    """settings/oauth/index.md: the refresh answer's ``client_endpoint`` is "the address of
    the Bitrix24 REST interface. All method calls start with it" (its ``domain`` is the
    OAuth server's). After a rename the next refresh moves the stored endpoint and domain,
    and calls go to the new address."""
    client, store, creds, tokens = _moved_client(emulator, redis_url, lambda url: True)
    client._refresher.refresh(creds.access_token)
    moved = store.load(creds.member_id)
    assert moved.client_endpoint == tokens["client_endpoint"]
    assert moved.domain == emulator.domain
    assert client.call("profile")["ID"] == "1"


def test_a_token_answer_naming_a_host_off_the_allow_list_is_not_followed(emulator, redis_url):
    """The endpoint comes from the OAuth server, yet it must pass the portal allow-list
    like any stored endpoint; otherwise the old one is kept and the tokens still saved."""
    client, store, creds, tokens = _moved_client(
        emulator, redis_url, lambda url: "old-name.invalid" in url
    )
    client._refresher.refresh(creds.access_token)
    kept = store.load(creds.member_id)
    assert kept.client_endpoint == "http://old-name.invalid/rest/"
    assert kept.access_token != creds.access_token


def test_the_sql_store_keeps_a_moved_endpoint(tmp_path):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from app.store import installations as inst
    from app.store.base import Base

    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine)
    with sessions.begin() as s:
        inst.upsert_verified(
            s, "m1", domain="old.bitrix24.com", auth_mode="oauth", access_token="a",
            refresh_token="r", client_endpoint="https://old.bitrix24.com/rest/", status="active",
        )  # fmt: skip
    store = inst.SqlTokenStore(sessions)
    store.save_tokens(
        "m1", "a2", "r2", 1780319382, client_endpoint="https://new.bitrix24.com/rest/"
    )
    creds = store.load("m1")
    assert (creds.domain, creds.client_endpoint) == (
        "new.bitrix24.com",
        "https://new.bitrix24.com/rest/",
    )


def test_a_renamed_portal_whose_old_address_is_dead_is_reached_after_the_token_expires(
    emulator, redis_url
):
    """settings/oauth/index.md: an access token lives an hour and the refresh answer names
    the REST address. A stored token past its lifetime is refreshed before the call, so even
    when the old address answers nothing at all the call goes to the portal's new one."""
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    client, store, creds, tokens = _moved_client(emulator, redis_url, lambda url: True)
    dead = replace(
        creds,
        client_endpoint="http://127.0.0.1:9/rest/",  # refused: nothing listens there
        expires_at=datetime.now(UTC) - timedelta(minutes=5),
    )
    store.put(dead)
    assert client.call("profile")["ID"] == "1"
    assert store.load(creds.member_id).client_endpoint == tokens["client_endpoint"]


def test_a_field_made_in_the_ui_is_adopted_and_written_by_its_crm_item_name(emulator, client):
    """A field an admin made in the UI is named ``UF_CRM_1712345678``; the installer adopts
    it by its label and rules write it under the name crm.item uses for it,
    ``ufCrm_1712345678`` (api-reference/crm/universal/index.md, simplified conversion)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from app.rules import actions as A
    from app.rules.apply import DONE, apply_with
    from app.store.base import Base

    client.call(
        "crm.lead.userfield.add",
        {"fields": {"FIELD_NAME": "UF_CRM_1712345678", "USER_TYPE_ID": "string",
                    "LABEL": "Место строительства",
                    "EDIT_FORM_LABEL": {"ru": "Место строительства"}}},
    )  # fmt: skip
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine)
    with sessions() as session:
        install(session, client, ["metal"])
        naming = resolve(session, "m-inst")
    assert "UF_CRM_MT_SITE" not in lead_fields(client, "lead")
    assert naming.field_name("lead", "UF_CRM_MT_SITE") == "ufCrm_1712345678"
    lead = client.call("crm.item.add", {"entityTypeId": 1, "fields": {"title": "L"}})["item"]
    report = apply_with(
        sessions, client, naming, "m-inst",
        [A.UpdateFields("lead", lead["id"], {"UF_CRM_MT_SITE": "Казань"})],
        cause="test", rule="contract.r2", record=("lead", lead["id"]),
    )  # fmt: skip
    assert [o.status for o in report.outcomes] == [DONE]
    now = client.call("crm.item.get", {"entityTypeId": 1, "id": lead["id"]})["item"]
    assert now["ufCrm_1712345678"] == "Казань"
