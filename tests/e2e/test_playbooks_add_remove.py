"""E2E: ``flask b24 playbooks --portal P add|remove NAME`` on a live (emulated) metal portal.

The emulator with our app installed through OAuth (metal), the Flask app receiving events,
a real RQ worker; the CLI run through Flask's runner. Adding furniture is one command and
the next furniture lead runs furniture's rules; adding kitchens binds its tab and the tab
answers. Removing stops the rules, cancels the playbook's timers with the reason recorded,
unbinds its tab, and keeps every record's values (read back through REST).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e._metal_world import MetalWorld, portal_world

LEAD = 1
MANAGER = 3


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["metal"], world_class=MetalWorld)


def cli(w, *args):
    runner = w.app.test_cli_runner()
    return runner.invoke(args=["b24", "playbooks", "--portal", w.member_id, *args])


def refresh_naming(w):
    from app.sync.context import portal_context

    w.naming = portal_context(w.services, w.member_id).naming


def timers(w, kind):
    from app.store.timers import Timer

    with w.services.session() as s:
        rows = s.query(Timer).filter(Timer.member_id == w.member_id, Timer.kind == kind).all()
        return [(t.record_id, t.state, t.outcome) for t in rows]


def runs(w):
    from app.store import installations

    with w.services.session() as s:
        return list(installations.get(s, w.member_id).playbooks)


def test_furniture_added_with_one_command_runs_and_removed_keeps_the_values(world):
    w = world
    added = cli(w, "add", "furniture", "--yes")
    assert added.exit_code == 0, added.output
    assert "+ add    category  deal pipeline furniture.sales" in added.output  # the plan first
    assert "furniture added: the portal runs metal, furniture" in added.output
    assert runs(w) == ["metal", "furniture"]
    refresh_naming(w)

    # the next furniture lead runs furniture's rules: the visit cadence starts
    lead = w.lead_from("manual", title="Диван", name="Ирина", phone="+79110000003")
    w.settle()
    city = w.uf("lead", "UF_CRM_FR_CITY")
    w.rest("crm.item.update", {"entityTypeId": LEAD, "id": lead, "fields": {city: "Казань"}})
    w.move(LEAD, lead, "furniture.lead.visited", "lead", user_id=MANAGER)
    w.settle()
    assert [(r, s) for r, s, _ in timers(w, "furniture.store_visit")] == [(lead, "pending")]

    # remove: the plan says what goes and what stays, then furniture stops
    removed = cli(w, "remove", "furniture", "--yes")
    assert removed.exit_code == 0, removed.output
    assert "cancel 1 open timer(s) of furniture" in removed.output
    assert "= keep   deal pipeline furniture.sales" in removed.output
    assert runs(w) == ["metal"]
    ((_, state, why),) = timers(w, "furniture.store_visit")
    assert state == "cancelled" and why == "playbook furniture removed from the portal"

    # every value stays on the portal, read back through REST
    assert w.item(LEAD, lead)[city] == "Казань"
    assert w.item(LEAD, lead)["stageId"] == w.stage("lead", "furniture.lead.visited")
    names = {f["FIELD_NAME"] for f in w.rest("crm.lead.userfield.list", {})}
    assert {"UF_CRM_FR_CITY", "UF_CRM_MT_WIDTH"} <= names
    pipelines = {c["name"] for c in w.rest("crm.category.list", {"entityTypeId": 2})["categories"]}
    assert any("Продажи" in n or "Sales" in n for n in pipelines)

    # and furniture's rules no longer run: another lead entering «Клиент пришёл в магазин»
    other = w.lead_from("manual", title="Шкаф", name="Пётр", phone="+79110000004")
    w.settle()
    w.move(LEAD, other, "furniture.lead.visited", "lead", user_id=MANAGER)
    w.settle()
    assert [r for r, _, _ in timers(w, "furniture.store_visit")] == [lead]


def test_an_added_playbooks_tab_answers_and_is_unbound_when_removed(world):
    w = world
    added = cli(w, "add", "kitchens", "--yes")
    assert added.exit_code == 0, added.output
    # the plan says a lead tab cannot be limited to kitchens' leads (detail-tab.md)
    assert "tab measurement (CRM_LEAD_DETAIL_TAB) shows on every card" in added.output
    handlers = {p.handler.rsplit("/", 1)[1] for p in w.emu.portal.core.placements}
    assert {"lead_object", "measurement"} <= handlers
    refresh_naming(w)
    lead = w.lead_from("call", title="Кухня", name="Анна", phone="+79110000005")
    w.settle()
    (client_id,) = list(w.emu.portal.core.apps)
    handler = next(p.handler for p in w.emu.portal.core.placements if "measurement" in p.handler)
    body = {
        "placement": "CRM_LEAD_DETAIL_TAB",
        "options": {"ID": str(lead)},
        "user_id": 1,
        "url": handler,
    }
    answer = w.emu.admin.post(f"apps/{client_id}/open", body)
    assert answer["status"] == 200 and "Виджет не найден" not in answer["body"]

    removed = cli(w, "remove", "kitchens", "--yes")
    assert removed.exit_code == 0, removed.output
    assert "unbind placement CRM_LEAD_DETAIL_TAB" in removed.output
    handlers = {p.handler.rsplit("/", 1)[1] for p in w.emu.portal.core.placements}
    assert "measurement" not in handlers and "lead_object" in handlers


def test_refusals_change_nothing(world):
    w = world
    assert cli(w, "add", "metal", "--yes").exit_code == 1  # already installed
    gone = cli(w, "remove", "metal", "--yes")
    assert gone.exit_code == 1 and "b24 uninstall" in gone.output
    assert cli(w, "remove", "eshop", "--yes").exit_code == 1
    assert runs(w) == ["metal"]
    listed = cli(w, "list")
    assert listed.exit_code == 0 and listed.output.startswith("metal  leads: WEBFORM, EMAIL")


def test_plan_and_apply_without_playbook_use_the_installations_own_set(world):
    """The shell's PLAYBOOKS is metal; the installation runs metal + eshop after ``add``. An
    admin unbinds eshop's tab by hand: a plain ``plan`` puts it back (it plans the
    installation's set); after ``remove eshop`` it does not."""
    w = world
    assert cli(w, "add", "eshop", "--yes").exit_code == 0
    (tab,) = [p for p in w.emu.portal.core.placements if p.handler.endswith("/order_timing")]
    w.rest("placement.unbind", {"PLACEMENT": tab.placement, "HANDLER": tab.handler})
    runner = w.app.test_cli_runner()
    plan = runner.invoke(args=["b24", "plan", "--portal", w.member_id])
    assert plan.exit_code == 0, plan.output
    assert "+ add    placement CRM_DEAL_DETAIL_TAB" in plan.output
    assert cli(w, "remove", "eshop", "--yes").exit_code == 0
    plan = runner.invoke(args=["b24", "plan", "--portal", w.member_id])
    assert "order_timing" not in plan.output
    applied = runner.invoke(args=["b24", "apply", "--portal", w.member_id, "--playbook", "eshop"])
    assert "the installation does not run eshop" in applied.output


def test_b24_uninstall_keeps_values_cancels_timers_and_says_what_stays(world):
    w = world
    width = w.uf("lead", "UF_CRM_MT_WIDTH")
    lead = w.lead_from("webform", title="Ангар", name="Олег", phone="+79110000009")
    w.settle()
    w.rest("crm.item.update", {"entityTypeId": LEAD, "id": lead, "fields": {width: 12.5}})
    w.settle()
    from app.store.timers import PENDING
    from app.timers import service

    with w.services.session.begin() as s:
        service.start_timer(
            s, w.member_id, kind="metal.deferred", due_at=datetime.now(UTC) + timedelta(days=9),
            record=("lead", lead), key="t1",
        )  # fmt: skip
    runner = w.app.test_cli_runner()
    dry = runner.invoke(args=["b24", "uninstall", "--portal", w.member_id, "--purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "lead:UF_CRM_MT_WIDTH  1 record(s) with a value" in dry.output
    assert timers(w, "metal.deferred")[0][1] == PENDING  # a dry run changes nothing

    done = runner.invoke(args=["b24", "uninstall", "--portal", w.member_id, "--yes"])
    assert done.exit_code == 0, done.output
    # ours and the lead's own (metal's untouched-lead check): every open timer of the portal
    cancelled = re.search(r"Cancelled (\d+) open timer\(s\) \(reason: uninstalled\)", done.output)
    assert cancelled and int(cancelled.group(1)) >= 1, done.output
    assert "user field(s) of the app, with every value in them" in done.output
    assert timers(w, "metal.deferred")[0][1:] == ("cancelled", "uninstalled")
    assert float(w.item(LEAD, lead)[width]) == 12.5
    assert not w.emu.portal.core.placements  # the tabs are gone


def _lead_statuses(w):
    return {s["STATUS_ID"] for s in w.rest("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}})}


def _pipelines(w):
    return {c["id"] for c in w.rest("crm.category.list", {"entityTypeId": 2})["categories"]}


def test_remove_purge_deletes_only_that_playbooks_own_objects_after_a_dry_run(world):
    """#21: ``remove furniture --purge`` deletes furniture's own fields, lead stages and
    pipelines; metal's, the shared lead stages (NEW, CONVERTED, JUNK) and every record stay.
    The dry run counts the values that would go and changes nothing."""
    w = world
    assert cli(w, "add", "furniture", "--yes").exit_code == 0
    refresh_naming(w)
    city, width = w.uf("lead", "UF_CRM_FR_CITY"), w.uf("lead", "UF_CRM_MT_WIDTH")
    own_stages = {w.stage("lead", "furniture.lead.visited"), "FR_ORDER_FORM", "FR_NOT_BACK"}
    furniture_pipelines = {
        w.naming.category(c) for c in ("furniture.sales", "furniture.reclamations")
    }
    metal_pipeline = w.naming.category("metal.deal")
    assert own_stages <= _lead_statuses(w) and furniture_pipelines <= _pipelines(w)
    lead = w.lead_from("webform", title="Ангар", name="Олег", phone="+79110000010")
    w.settle()
    w.rest(
        "crm.item.update", {"entityTypeId": LEAD, "id": lead, "fields": {city: "Казань", width: 9}}
    )
    w.settle()

    dry = cli(w, "remove", "furniture", "--purge", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "lead:UF_CRM_FR_CITY  1 record(s) with a value" in dry.output
    assert "- delete category  furniture.sales" in dry.output
    assert "- delete stage     furniture.lead.visited" in dry.output
    deleting = [line for line in dry.output.splitlines() if line.startswith("- delete")]
    assert not [line for line in deleting if "UF_CRM_MT" in line or "metal." in line]
    assert not [line for line in deleting if line.endswith(("lead.new", "lead.contract"))]
    assert runs(w) == ["metal", "furniture"]  # a dry run changes nothing
    assert "UF_CRM_FR_CITY" in {f["FIELD_NAME"] for f in w.rest("crm.lead.userfield.list", {})}

    done = cli(w, "remove", "furniture", "--purge", "--yes")
    assert done.exit_code == 0, done.output
    assert runs(w) == ["metal"]
    names = {f["FIELD_NAME"] for f in w.rest("crm.lead.userfield.list", {})}
    assert "UF_CRM_FR_CITY" not in names and "UF_CRM_MT_WIDTH" in names
    statuses = _lead_statuses(w)
    assert not own_stages & statuses and {"NEW", "CONVERTED", "JUNK"} <= statuses
    assert w.stage("lead", "metal.lead.unprocessed") in statuses
    pipelines = _pipelines(w)
    assert not furniture_pipelines & pipelines and metal_pipeline in pipelines
    assert float(w.item(LEAD, lead)[width]) == 9  # records and metal's values stay

    # the store forgot what is gone: adding furniture again creates it afresh
    again = cli(w, "add", "furniture", "--yes")
    assert again.exit_code == 0, again.output
    assert "+ add    category  deal pipeline furniture.sales" in again.output
