"""The admin's first hour, in a real browser and without a CLI (issue #16 "Done when"):
install the app from the portal, choose playbooks on the settings page, change a duration,
see the next lead use it, read the lead's «Automation» tab, and open every report.

Everything the admin does goes through the pages the portal shows; the test only plays the
portal's other users (a web form sends a lead) and runs a real RQ worker between steps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.store import timers
from app.sync.context import portal_context
from tests.browser.conftest import PortalPage
from tests.browser.test_install_in_browser import _drain, fresh_portal  # noqa: F401
from tests.e2e._metal_world import MetalWorld

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def _install_state(page, svc) -> str:
    _drain(svc)
    return page.css("#install-state").get_attribute("data-state") or ""


def test_install_choose_change_see_it_work_audit_and_reports(fresh_portal, browser):  # noqa: F811
    from selenium.webdriver.support.ui import Select

    emu, svc, reg = fresh_portal
    page = PortalPage(browser, emu, reg["client_id"])

    # 1. install: the installer page in the portal's frame, until BX24.installFinish()
    browser.get(f"{emu.base_url}/_emu/apps/{reg['client_id']}/frame?install=1")

    def finished(driver) -> bool:
        _drain(svc)
        return driver.find_element("tag name", "body").get_attribute("data-install-finished")

    page.wait(finished, timeout=90)

    # 2. choose playbooks: kitchens beside metal, from the app's own page (placement DEFAULT)
    page.open("DEFAULT", lang="en", user_id=1)
    page.wait(lambda d: "Sales automation: settings" in page.text())
    kitchens = "#playbooks tr[data-playbook='kitchens']"
    page.css(f"{kitchens} .pb-toggle").click()
    # the page follows the new job (queued, then running) — not the first install's "done"
    page.wait(lambda d: page.css("#install-state").get_attribute("data-state") != "done")
    page.wait(lambda d: _install_state(page, svc) == "done", timeout=90)
    from app.installers.playbook_set import installed

    with svc.session() as s:
        assert installed(s, emu.portal.member_id) == ["metal", "kitchens"]

    # 3. change a duration: the head of sales hears of an untouched lead after 2 h, not 24
    page.open("DEFAULT", lang="en", user_id=1)
    page.wait(lambda d: page.all("[data-tab='pb-metal']"))
    page.css("[data-tab='pb-metal']").click()
    hours = page.css("#f-metal-untouched_alert_hours")
    hours.clear()
    hours.send_keys("2")
    page.css("form[data-playbook='metal'] button.save").click()
    status = "form[data-playbook='metal'] .form-status"
    page.wait(lambda d: "Changes saved: 1" in page.css(status).text)

    # 4. the next lead follows it: its untouched-lead timer is due 2 hours after it came
    tokens = emu.admin.post(f"apps/{reg['client_id']}/tokens", {"user_id": 1})
    naming = portal_context(svc, emu.portal.member_id).naming
    world = MetalWorld(emu, svc, tokens["access_token"], naming)
    lead = world.lead_from("webform", title="Склад 20×40", email="buyer@stroy.ru")
    world.settle()
    with svc.session() as s:
        (timer,) = [
            t
            for t in s.query(timers.Timer).filter_by(entity="lead", record_id=lead)
            if t.kind == "metal.untouched" and t.state == "pending"
        ]
        delay = timer.due_at - timer.created_at
    assert timedelta(hours=1, minutes=59) <= delay <= timedelta(hours=2, minutes=1)

    # 5. what the app did to the lead, and why: the «Automation» tab
    page.open("CRM_LEAD_DETAIL_TAB", {"ID": str(lead)}, handler="automation_lead", lang="en")
    page.wait(lambda d: page.all("tr.audit-row"))
    assert {el.text for el in page.all("td.rule")}
    assert page.all(f"tr.timer-row[data-timer='{timer.id}']")

    # 6. every report opens: a table or "no data", never an error
    page.open("CRM_ANALYTICS_MENU", handler="reports", lang="en")
    page.wait(lambda d: page.all("#rp-report option"))
    names = [o.get_attribute("value") for o in page.all("#rp-report option")]
    assert names
    for name in names:
        browser.execute_script("document.getElementById('rp-result').dataset.report = '';")
        Select(page.css("#rp-report")).select_by_value(name)
        page.css("#rp-show").click()  # the first report is already selected: no change event
        page.wait(
            lambda d, n=name: d.execute_script(
                "return document.getElementById('rp-result').dataset.report === arguments[0]"
                " && document.getElementById('rp-msg').textContent === '';",
                n,
            )
        )
        shown = page.css("#rp-result").text
        assert page.all("#rp-result .rp-table") or "No data" in shown, (name, shown)
