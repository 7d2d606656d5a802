"""Apply the playbooks to an emulated portal and read the result back through REST."""

import pytest

from app.installers.mapping import resolve
from app.playbooks import NAMES
from tests.app.test_installer_support import (
    assert_portal_matches,
    install,
    lead_fields,
    new_session,
    oauth_client,
    reset_counts,
    statuses,
    write_calls,
)


@pytest.fixture
def client(emulator, redis_url):
    return oauth_client(emulator, redis_url)


@pytest.mark.parametrize("name", NAMES)
def test_each_playbook_applies_from_scratch_and_reapply_writes_nothing(emulator, client, name):
    session = new_session()
    first = install(session, client, [name])
    assert first.conflicts == []
    assert_portal_matches(client, session, [name])
    reset_counts(emulator)
    second = install(session, client, [name])
    assert write_calls(emulator) == {}
    assert second.final_plan.empty and second.requests <= 5


def test_all_five_apply_together_and_reapply_cleanly(emulator, client):
    session = new_session()
    install(session, client, NAMES)
    assert_portal_matches(client, session, NAMES)
    names = [r["NAME"] for r in statuses(client, "STATUS")]
    assert len(names) == len(set(names)), "shared lead stages are not duplicated"
    schema = resolve(session, "m-inst")
    assert schema.stage("kitchens.lead.unprocessed") == schema.stage("metal.lead.unprocessed")
    assert schema.stage_code("lead", "NEW") == "metal.lead.unprocessed"  # the merge's choice
    assert {"kitchens.lead.unprocessed", "furniture.lead.new"} <= set(
        schema.stage_codes("lead", "NEW")
    )
    reset_counts(emulator)
    again = install(session, client, NAMES)
    assert write_calls(emulator) == {}
    assert again.final_plan.empty


def test_playbooks_added_one_after_another_coexist(emulator, client):
    """Lead stages are inserted three times into the same shared list (room is made)."""
    session = new_session()
    names = []
    for name in ("metal", "kitchens", "furniture"):
        names.append(name)
        report = install(session, client, names)
        assert report.conflicts == []
        assert_portal_matches(client, session, names)
    reset_counts(emulator)
    install(session, client, list(reversed(names)))
    assert write_calls(emulator) == {}


def test_robots_events_and_widgets_are_registered_and_restored_after_app_update(emulator, client):
    from tests.app.test_installer_support import BASE, CLIENT_ID

    session = new_session()
    install(session, client, ["metal"])
    assert "calc_area" in client.call("bizproc.robot.list", {})
    bound = client.call("event.get", {})
    online = {(b["event"], b["handler"]) for b in bound if not int(b.get("offline") or 0)}
    offline = {b["event"] for b in bound if int(b.get("offline") or 0)}
    assert ("ONCRMLEADADD", f"{BASE}/events") in online
    assert ("ONAPPUNINSTALL", f"{BASE}/app-events") in online
    assert "ONCRMDEALUPDATE" in offline
    etid = resolve(session, "m-inst").entity_type("metal.object")
    widgets = {(w["placement"], w["handler"]) for w in client.call("placement.get", {})}
    assert (f"CRM_DYNAMIC_{etid}_DETAIL_TAB", f"{BASE}/widgets/object_merge") in widgets

    emulator.admin.post(f"apps/{CLIENT_ID}/update", {"version": 2})  # the portal wipes robots
    assert "calc_area" not in client.call("bizproc.robot.list", {})
    reset_counts(emulator)
    install(session, client, ["metal"])
    assert "calc_area" in client.call("bizproc.robot.list", {})
    assert set(write_calls(emulator)) == {"bizproc.robot.add"}


def test_mapping_resolves_real_names_and_enum_ids(client):
    session = new_session()
    install(session, client, ["metal"])
    schema = resolve(session, "m-inst")
    etid = schema.entity_type("metal.object")
    t = client.call("crm.type.getByEntityTypeId", {"entityTypeId": etid})["type"]
    ref = schema.field("UF_CRM_OBJ_WIDTH")
    assert ref.upper == f"UF_CRM_{t['id']}_OBJ_WIDTH"
    assert ref.camel == f"ufCrm{t['id']}ObjWidth"
    item = client.call(
        "crm.item.add", {"entityTypeId": etid, "fields": {"title": "Склад", ref.camel: 12.5}}
    )["item"]
    assert item[ref.camel] == 12.5  # the camel name is the one crm.item.* really uses
    purpose = lead_fields(client, "lead")["UF_CRM_MT_PURPOSE"]
    want = next(o["ID"] for o in purpose["LIST"] if o["XML_ID"] == "warehouse")
    assert schema.enum_id("UF_CRM_MT_PURPOSE", "warehouse", entity="lead") == int(want)
    assert schema.stage("metal.lead.data_complete") == "MT_DATA_OK"
    assert schema.stage_id("lead", "kitchens.lead.unprocessed") == "kitchens.lead.unprocessed"


def test_an_updated_b2b_portal_ends_with_one_reports_item_and_others_untouched(emulator, client):
    """The b2b playbook used to bind its own «Отчёты B2B» (``b2b_reports``) in CRM ›
    Analytics; its reports moved to the app's «Отчёты» page. After the app update the plan
    unbinds that stale binding (placement.unbind with PLACEMENT + HANDLER,
    api-reference/widgets/placement-unbind.md) — and nothing of another app or handler."""
    import requests

    from tests.app.test_installer_support import BASE, CLIENT_ID

    session = new_session()
    install(session, client, ["b2b"])
    menu = "CRM_ANALYTICS_MENU"
    old = {"PLACEMENT": menu, "HANDLER": f"{BASE}/widgets/b2b_reports", "TITLE": "Отчёты B2B"}
    client.call("placement.bind", old)  # what the previous version left
    elsewhere = {
        "PLACEMENT": menu,
        "HANDLER": "http://127.0.0.1:9/legacy/b2b_reports",
        "TITLE": "L",
    }
    client.call("placement.bind", elsewhere)  # ours, but not under our widgets URL
    other = emulator.register_app(scopes=["placement", "crm"])
    emulator.admin.post(f"apps/{other['client_id']}/install", {"user_id": 1})
    token = emulator.admin.post(f"apps/{other['client_id']}/tokens", {"user_id": 1})
    foreign = {"PLACEMENT": menu, "HANDLER": f"{BASE}/widgets/b2b_reports", "TITLE": "Their"}
    bound = requests.post(
        emulator.rest_url + "placement.bind", json={**foreign, "auth": token["access_token"]}
    )
    assert bound.status_code == 200, bound.text

    emulator.admin.post(f"apps/{CLIENT_ID}/update", {"version": 2})
    reset_counts(emulator)
    report = install(session, client, ["b2b"])
    assert report.written.get("delete placement") == 1
    assert write_calls(emulator).get("placement.unbind") == 1
    ours = {(w["placement"], w["handler"]) for w in client.call("placement.get", {})}
    in_menu = sorted(h for p, h in ours if p == menu)
    assert in_menu == sorted(
        [f"{BASE}/widgets/dry_run", f"{BASE}/widgets/reports", elsewhere["HANDLER"]]
    )
    widgets = [h for h in in_menu if h.startswith(f"{BASE}/widgets/")]
    assert [h for h in widgets if h.endswith("reports")] == [f"{BASE}/widgets/reports"]
    theirs = requests.post(
        emulator.rest_url + "placement.get", json={"auth": token["access_token"]}
    )
    assert [(r["placement"], r["handler"]) for r in theirs.json()["result"]] == [
        (menu, foreign["HANDLER"])
    ]
    assert install(session, client, ["b2b"]).final_plan.empty  # nothing left to unbind


def _ours(client):
    """(kind, name, handler) of this app's online event bindings and placements."""
    events = {
        ("event", b["event"], b["handler"])
        for b in client.call("event.get", {})
        if not int(b.get("offline") or 0)
    }
    widgets = {
        ("placement", w["placement"], w["handler"]) for w in client.call("placement.get", {})
    }
    return events | widgets


def test_a_new_app_base_url_moves_every_binding_and_leaves_nothing_at_the_old_one(emulator, client):
    """The operator moved the app (APP_BASE_URL changed) and ran the installer again: the
    portal must stop POSTing to the old address — it kept doing so for every event and
    widget before (issue #22's note: bindings under an old APP_BASE_URL not cleaned)."""
    from app.installers.apply import apply
    from app.installers.desired import build
    from app.robots.registry import all_specs
    from tests.app.test_installer_support import BASE

    moved = "http://127.0.0.1:8"
    session = new_session()
    install(session, client, ["metal", "kitchens"])
    before = _ours(client)
    assert before and all(h.startswith(BASE + "/") for _, _, h in before)
    # a binding of this app at another address that this deployment never made (no record)
    client.call("event.bind", {"event": "ONCRMLEADADD", "handler": "http://other.example/events"})

    reset_counts(emulator)
    apply(session, client, "m-inst", build(["metal", "kitchens"]), moved, all_specs())
    after = _ours(client)
    at_old = {x for x in after if x[2].startswith(BASE + "/")}
    assert at_old == set()
    # the same bindings, at the new address
    assert {(k, n, h.replace(BASE, moved)) for k, n, h in before} <= after
    assert ("event", "ONCRMLEADADD", "http://other.example/events") in after  # not ours
    unbound = write_calls(emulator)
    assert unbound["event.unbind"] == len({x for x in before if x[0] == "event"})
    assert unbound["placement.unbind"] == len({x for x in before if x[0] == "placement"})
    # the robots' handlers moved too (the spec's fingerprint names its handler)
    robots = list(emulator.portal.core.robots.values())
    assert robots and all(r.handler.startswith(moved + "/robots/") for r in robots)
    # and a second run under the new address has nothing left to do
    reset_counts(emulator)
    apply(session, client, "m-inst", build(["metal", "kitchens"]), moved, all_specs())
    assert write_calls(emulator) == {}
