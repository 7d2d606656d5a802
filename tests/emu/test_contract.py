"""Conformance: where b24restdocs and our app/emulator differed, both now follow the doc.

Each test names the doc page (a path in the ``bitrix24/b24restdocs`` repository) it
reproduces; ``docs/portal-contract.md`` lists the rows these tests back.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.installers.mapping import resolve
from tests.app.test_installer_support import install, new_session, oauth_client, statuses


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


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "b24restdocs"


def _doc_rows(name: str) -> list[dict]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))["response"]["result"]


def _shape(row: dict, keys) -> dict:
    return {k: row.get(k) for k in keys}


def test_fresh_portal_default_stage_names(client):
    """api-reference/crm/status/crm-status-list.md (the default deal pipeline) and
    tutorials/crm/how-to-get-lists/how-to-get-stages-with-semantics.md (lead statuses):
    a fresh portal's stage ids, names, system flags and semantics are the documented ones."""
    keys = ("STATUS_ID", "NAME", "SORT", "SYSTEM", "SEMANTICS", "EXTRA", "COLOR")
    deal = client.call("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})
    assert [_shape(r, keys) for r in deal] == [
        _shape(r, keys) for r in _doc_rows("crm_status_list_deal_stage.json")
    ]
    keys = ("STATUS_ID", "NAME", "NAME_INIT", "SYSTEM", "SEMANTICS")
    lead = {r["STATUS_ID"]: r for r in client.call(
        "crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}})}  # fmt: skip
    for doc in _doc_rows("crm_status_list_lead_status.json"):
        assert _shape(lead[doc["STATUS_ID"]], keys) == _shape(doc, keys)
        assert lead[doc["STATUS_ID"]]["EXTRA"]["SEMANTICS"] == doc["EXTRA"]["SEMANTICS"]


def test_smart_process_stages_have_no_extra(client):
    """tutorials/crm/how-to-get-lists/how-to-get-stages-with-semantics.md: "The method adds
    the EXTRA object only for leads, deals, and quotes"; smart-process rows carry the short
    SEMANTICS (null/S/F) alone — the one field the installer reads."""
    spa = client.call("crm.type.add", {"fields": {"title": "Stages", "isStagesEnabled": "Y"}})
    etid = spa["type"]["entityTypeId"]
    cat = client.call("crm.category.list", {"entityTypeId": etid})["categories"][0]["id"]
    rows = client.call("crm.status.list", {"filter": {"ENTITY_ID": f"DYNAMIC_{etid}_STAGE_{cat}"}})
    doc = _doc_rows("crm_status_list_dynamic_stage.json")
    assert set(rows[0]) == set(doc[0])
    assert {r["SEMANTICS"] for r in rows} == {None, "S", "F"}


def test_cut_seed_stage_ids_are_cleaned_up(client):
    """tutorials/crm/how-to-get-lists/how-to-get-elements-by-stage-filter.md: a new
    pipeline's seeded ids are cut (``C10:PREPAYMENT_INVOIC``); the installer still sees the
    cut id as a seed stage and removes it from the pipeline it creates."""
    for n in range(9):  # the metal pipeline becomes category 10
        client.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": f"Other {n}"}})
    session = new_session()
    install(session, client, ["metal"])
    cat = resolve(session, "m-inst").category("metal.deal")
    assert cat >= 10
    doc_ids = [r["STATUS_ID"] for r in _doc_rows("crm_status_list_deal_stage_10.json")]
    assert "C10:PREPAYMENT_INVOIC" in doc_ids
    ids = [r["STATUS_ID"] for r in statuses(client, f"DEAL_STAGE_{cat}")]
    assert not [i for i in ids if i.split(":", 1)[1] in {
        "PREPARATION", "PREPAYMENT_INVOIC", "EXECUTING", "FINAL_INVOICE", "APOLOGY"}]  # fmt: skip
    assert install(session, client, ["metal"]).final_plan.empty


def test_sync_responsible_reads_every_page(client):
    """api-reference/crm/universal/crm-item-list.md: "The page size of results is always
    static — 50 records"; the responsible-sync robot pages (settings/performance/huge-data.md:
    ``start=-1`` + ``>id``) instead of acting on the first 50 followers only."""
    from types import SimpleNamespace

    from app.robots import sync_responsible

    company = client.call("crm.item.add", {"entityTypeId": 4, "fields": {"title": "Big"}})
    cid = company["item"]["id"]
    cmd = {
        f"c{i}": (
            "crm.item.add",
            {"entityTypeId": 3, "fields": {"name": f"C{i}", "companyId": cid}},
        )
        for i in range(60)
    }
    client.batch(cmd)
    rows = sync_responsible._list(SimpleNamespace(client=client), 3, {"companyId": cid})
    assert len(rows) == 60 and len({r["id"] for r in rows}) == 60


@pytest.mark.parametrize(
    ("upper", "camel"),
    [  # the table in api-reference/crm/universal/index.md, plus its two inline examples
        ("UF_CRM_3_DIGIT", "ufCrm3Digit"),
        ("UF_CRM_3_1747309727", "ufCrm3_1747309727"),
        ("UF_CRM_3_DIGIT10", "ufCrm_3_DIGIT10"),
        ("UF_CRM_3_DIGIT_10", "ufCrm_3_DIGIT_10"),
        ("UF_CRM_1747309879", "ufCrm_1747309879"),
        ("UF_CRM_10_5186744711", "ufCrm10_5186744711"),
        ("UF_CRM_10_DIGIT", "ufCrm10Digit"),
    ],
)
def test_user_field_camel_names_follow_the_doc_table(upper, camel):
    """api-reference/crm/universal/index.md "Field Naming Conventions": regular conversion
    when only digits or only letters follow ``UF_CRM_`` and the object number, else only
    the prefix becomes ``ufCrm_`` — the app's and the emulator's converters agree with it."""
    from app.installers.wire import camel_name
    from b24emu.crm.naming import uf_to_camel

    assert camel_name(upper) == camel == uf_to_camel(upper)


def test_offline_rows_without_record_ids_are_caught_by_reconciliation(emulator, client, redis_conn):
    """api-reference/events/event-offline-get.md and event-offline-list.md show rows with
    ``"EVENT_DATA": false`` while offline-events.md says a row carries the identifiers of
    the changed object. With no id the catch-up used to clear the row unprocessed; now it
    reconciles that entity by ``updatedTime`` (settings/performance/huge-data.md paging), so
    the lead's rules still run once, and the rows are cleared only after that."""
    from datetime import UTC, datetime

    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from app.rules import dispatch
    from app.rules.actions import Notify
    from app.rules.model import Rule, on_created
    from app.rules.naming import PlainNaming
    from app.store.base import Base
    from app.sync import offline, reconcile
    from app.sync.context import PortalContext

    seen: list[int] = []

    def welcome(ctx):
        seen.append(ctx.change.record_id)
        return [Notify((1,), f"new lead {ctx.change.record_id}")]

    dispatch.register("contractbook", [Rule("welcome", "lead", on_created(), welcome)])
    try:
        engine = create_engine("sqlite://")
        Base.metadata.create_all(engine)
        ctx = PortalContext(
            member_id="m-inst", session_factory=sessionmaker(engine), client=client,
            naming=PlainNaming(), redis=redis_conn, playbooks=("contractbook",),
            now=lambda: datetime.now(UTC),
        )  # fmt: skip
        client.call("event.bind", {"event": "ONCRMLEADADD", "event_type": "offline"})
        emulator.admin.post("crm/lead", {"source": "manual", "title": "Before"})
        reconcile.reconcile(ctx)  # the baseline (watermark) an installed portal already has
        emulator.configure(offline_event_data=False)
        lead = emulator.admin.post("crm/lead", {"source": "manual", "title": "Offline"})
        rows = client.call("event.offline.list", {})
        assert rows and rows[0]["EVENT_DATA"] is False  # the docs' example shape
        result = offline.catch_up(ctx)
        assert seen == [lead["id"]] and result.failed_rows == 0
        assert client.call("event.offline.list", {}) == []
    finally:
        dispatch.unregister("contractbook")


def test_objects_are_found_by_either_form_of_a_crm_field_value(client):
    """api-reference/crm/data-types.md "Format of Values for User Field Binding to CRM
    Elements": ``T{hex entityTypeId}_{id}`` (``T80_6``); a field bound to one type may hold
    the bare id. The Object merge finds leads linked either way."""
    from app.objects.gather import load_objects

    session = new_session()
    install(session, client, ["metal"])
    naming = resolve(session, "m-inst")
    etid = naming.entity_type_id("metal.object")
    obj = client.call("crm.item.add", {"entityTypeId": etid, "fields": {"title": "O"}})["item"]
    link = naming.field_name("lead", "UF_CRM_MT_OBJECT")
    leads = [
        client.call("crm.item.add", {"entityTypeId": 1, "fields": {"title": t, link: v}})["item"]
        for t, v in (("bare", obj["id"]), ("prefixed", f"T{etid:x}_{obj['id']}"))
    ]
    found = load_objects(client, naming, [obj["id"]])[obj["id"]]
    assert set(found.links["lead"]) == {lead["id"] for lead in leads}


def test_list_orders_use_the_documented_direction_words():
    """api-reference/crm/universal/crm-item-list.md: ``order`` values are ``ASC`` or
    ``DESC``; every list the app builds says so literally (the emulator is lenient)."""
    from app.portal.paging import keyset_params
    from app.rules.naming import PlainNaming
    from app.sync.fetch import CLIENT_DEALS, CONTACT_DEALS, related_commands

    cmds = related_commands([CLIENT_DEALS, CONTACT_DEALS], PlainNaming())
    directions = {d for _, params in cmds.values() for d in params["order"].values()}
    directions |= set(keyset_params({}, "id")[0]["order"].values())
    assert directions <= {"ASC", "DESC"}


def test_a_smart_process_we_create_lets_tasks_bind_to_its_items(client):
    """api-reference/crm/universal/user-defined-object-types/crm-type-add.md: tasks bind to
    a smart process's items (``UF_CRM_TASK`` ``T{hex}_{id}``, api-reference/crm/data-types.md)
    only with ``linkedUserFields["TASKS_TASK|UF_CRM_TASK"] = "true"`` (strings, not Y/N)."""
    session = new_session()
    install(session, client, ["metal"])
    etid = resolve(session, "m-inst").entity_type_id("metal.object")
    spa = client.call("crm.type.getByEntityTypeId", {"entityTypeId": etid})["type"]
    assert spa["linkedUserFields"]["TASKS_TASK|UF_CRM_TASK"] == "Y"
    assert spa["isUseInUserfieldEnabled"] == "Y"


def test_offline_activity_rows_without_ids_are_kept_as_errors(emulator, client, redis_conn):
    """api-reference/events/event-offline-error.md: rows marked as errors stay in the queue
    for inspection. An activity row without an id (the docs' ``EVENT_DATA: false``) cannot
    be reconciled by ``updatedTime``, so it is marked, not cleared unprocessed."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from app.rules.naming import PlainNaming
    from app.store.base import Base
    from app.sync import offline
    from app.sync.context import PortalContext

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    ctx = PortalContext(
        member_id="m-inst", session_factory=sessionmaker(engine), client=client,
        naming=PlainNaming(), redis=redis_conn,
    )  # fmt: skip
    client.call("event.bind", {"event": "ONCRMACTIVITYADD", "event_type": "offline"})
    emulator.configure(offline_event_data=False)
    lead = client.call("crm.item.add", {"entityTypeId": 1, "fields": {"title": "A"}})["item"]
    emulator.admin.post(
        "crm/activity",
        {"fields": {"OWNER_TYPE_ID": 1, "OWNER_ID": lead["id"], "TYPE_ID": 2,
                    "SUBJECT": "Call", "COMMUNICATIONS": [{"VALUE": "+79990000000"}]}},
    )  # fmt: skip
    result = offline.catch_up(ctx)
    assert result.failed_rows == 1
    (row,) = client.call("event.offline.list", {})
    assert row["EVENT_NAME"] == "ONCRMACTIVITYADD" and row["ERROR"] == "1"
