"""The app's own pages in the installer's plan (app.playbooks.app_widgets): the «Автоматизация»
tab on every standard card, on metal's Object only when metal is installed, and no
"shared tab" note for them (they are meant for every card).

Placement codes: api-reference/widgets/crm/detail-tab.md (CRM_XXX_DETAIL_TAB,
CRM_DYNAMIC_XXX_DETAIL_TAB), api-reference/widgets/crm/analytics-menu.md."""

from app.installers.current import Snapshot
from app.installers.desired import build
from app.installers.plan import plan

BASE = "https://app.example.com"
STANDARD_TABS = {
    "automation_lead": "CRM_LEAD_DETAIL_TAB",
    "automation_deal": "CRM_DEAL_DETAIL_TAB",
    "automation_contact": "CRM_CONTACT_DETAIL_TAB",
    "automation_company": "CRM_COMPANY_DETAIL_TAB",
    "dry_run": "CRM_ANALYTICS_MENU",
}


def _placements(p):
    return {s.code.split("|")[0]: s for s in p.steps if s.kind == "placement"}


def test_without_metal_the_object_tab_is_skipped_and_nothing_waits_for_it():
    desired = build(["kitchens"])
    codes = {w.code for w in desired.widgets}
    assert set(STANDARD_TABS) <= codes and "automation_object" not in codes
    steps = _placements(plan(desired, Snapshot(placements=[]), {}, BASE, {}))
    for code, placement in STANDARD_TABS.items():
        step = steps[code]
        assert step.ready and step.params["PLACEMENT"] == placement
        assert step.params["HANDLER"] == f"{BASE}/widgets/{code}"
    assert not [s for s in steps.values() if not s.ready]


def test_with_metal_the_object_tab_waits_for_the_object_type():
    desired = build(["metal"])
    steps = _placements(plan(desired, Snapshot(placements=[]), {}, BASE, {}))
    tab = steps["automation_object"]
    assert not tab.ready and tab.waits_for == "metal.object"


def test_app_tabs_bring_no_shared_tab_note_on_a_portal_with_two_playbooks():
    p = plan(build(["metal", "kitchens"]), Snapshot(placements=[]), {}, BASE, {})
    assert not [n for n in p.notes if "automation_" in n]
    assert [n for n in p.notes if "lead_object" in n]  # a playbook's tab still gets it


# -- stale bindings: unbound when no installed playbook or app page wants them any more
# (placement.unbind with PLACEMENT + HANDLER: api-reference/widgets/placement-unbind.md —
# without HANDLER it removes every handler the app has on that placement)


def _row(placement, handler, user_id=0):
    return {"placement": placement, "handler": handler, "userId": user_id, "title": "x"}


def _wanted_rows(desired):
    return [
        _row(w.placement, f"{BASE}/widgets/{w.code}")
        for w in desired.widgets
        if "{" not in w.placement
    ]


def test_a_binding_of_ours_nothing_wants_is_unbound_and_shown_as_a_removal():
    desired = build(["kitchens"])
    stale = _row("CRM_ANALYTICS_MENU", f"{BASE}/widgets/old_reports")
    moved = _row("CRM_CONTACT_DETAIL_TAB", f"{BASE}/widgets/dry_run")  # wanted elsewhere only
    p = plan(desired, Snapshot(placements=[*_wanted_rows(desired), stale, moved]), {}, BASE, {})
    removals = [s for s in p.steps if s.op == "delete"]
    assert sorted((s.method, s.params["PLACEMENT"], s.params["HANDLER"]) for s in removals) == [
        ("placement.unbind", "CRM_ANALYTICS_MENU", f"{BASE}/widgets/old_reports"),
        ("placement.unbind", "CRM_CONTACT_DETAIL_TAB", f"{BASE}/widgets/dry_run"),
    ]
    assert [s for s in p.steps if s.kind == "placement" and s.op == "add"] == []
    assert "- delete placement CRM_ANALYTICS_MENU → " + f"{BASE}/widgets/old_reports" in p.render()


def test_other_handlers_user_bindings_and_undecided_tabs_are_never_touched():
    desired = build(["metal"])
    rows = [
        *_wanted_rows(desired),
        _row("CRM_ANALYTICS_MENU", "https://other-app.example.com/widgets/old_reports"),
        _row("CRM_ANALYTICS_MENU", "https://app.example.com.evil.org/widgets/x"),
        _row("CRM_ANALYTICS_MENU", f"{BASE}/pages/old"),  # not a widget handler of ours
        _row("CRM_LEAD_DETAIL_TAB", f"{BASE}/widgets/gone", user_id=5),  # one user's binding
        # the Object tab waits for metal's smart process id: its binding cannot be judged
        _row("CRM_DYNAMIC_1040_DETAIL_TAB", f"{BASE}/widgets/automation_object"),
    ]
    p = plan(desired, Snapshot(placements=rows), {}, BASE, {})
    assert [s for s in p.steps if s.op == "delete"] == []


def test_applying_one_playbook_of_several_keeps_the_others_tabs():
    """`apply --playbook kitchens` on a portal that runs kitchens and b2b: the widgets kept
    are the whole installation's, so b2b's and metal's pages are not unbound."""
    whole = build(["kitchens", "eshop"])
    rows = _wanted_rows(whole)
    eshop_only = [r for r in rows if r["handler"].endswith("/order_timing")]
    assert eshop_only  # eshop's deal tab
    p = plan(
        build(["kitchens"]), Snapshot(placements=rows), {}, BASE, {}, keep_widgets=whole.widgets
    )
    assert [s for s in p.steps if s.op == "delete"] == []
    alone = plan(build(["kitchens"]), Snapshot(placements=rows), {}, BASE, {})
    assert {s.params["HANDLER"] for s in alone.steps if s.op == "delete"} == {
        r["handler"] for r in eshop_only
    }
