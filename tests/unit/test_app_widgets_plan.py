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
