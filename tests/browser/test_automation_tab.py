"""The record's «Автоматизация» tab and the dry-run page in a real browser, opened through the
portal's frame POST (docs: api-reference/widgets/crm/detail-tab.md — CRM_LEAD_DETAIL_TAB
posts PLACEMENT_OPTIONS {"ID": ...}; api-reference/widgets/crm/analytics-menu.md).

User 1 on the emulator is a portal admin, user 2 is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.e2e._metal_world import MetalWorld, portal_world

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["metal"], world_class=MetalWorld)


def _open_timers(w, lead):
    from app.store.timers import OPEN_STATES, Timer

    with w.services.session() as s:
        rows = s.query(Timer).filter(Timer.entity == "lead", Timer.record_id == lead).all()
        return [(t.id, t.kind, t.state) for t in rows if t.state in OPEN_STATES]


def test_admin_reads_the_audit_and_cancels_a_timer_that_then_never_fires(
    world, portal_page, browser
):
    w = world
    lead = w.lead_from("manual", title=HOSTILE, phone="+79001112233")
    w.settle()
    (timer_id, kind, _), *_ = _open_timers(w, lead)
    from app.store import audit

    with w.services.session() as s:
        rows = audit.for_record(s, w.member_id, "lead", lead)
        rules = {r.rule for r in rows}
    assert rules, "metal processed the lead"

    for lang in ("ru", "en"):
        page = portal_page(w).open(
            "CRM_LEAD_DETAIL_TAB", {"ID": str(lead)}, handler="automation_lead", lang=lang
        )
        page.wait(lambda d, p=page: p.all("tr.audit-row"))
        page.screenshot(f"automation_tab_{lang}")
    # what a person sees: the rule names, why (the lead's creation), what was written
    shown_rules = {el.text for el in page.all("td.rule")}
    assert shown_rules == rules
    causes = " ".join(el.text for el in page.all("td.cause"))
    assert "The record was created" in causes or "Created in stage" in causes
    assert any(el.text.strip() for el in page.all("td.wrote"))
    # the due time as the portal's clock shows it (app.people: server.time's offset)
    from app.people import People
    from app.store.timers import Timer

    with w.services.session() as s:
        clock = People.load(s, w.member_id)
        due = clock.when(s.get(Timer, timer_id).due_at)
    row = page.css(f"tr.timer-row[data-timer='{timer_id}']")
    assert row.find_element("css selector", "td.due").text == due
    assert clock.label() in page.css("#timers").text
    # the hostile title is shown as text
    assert HOSTILE in page.css("#record").text
    assert browser.execute_script("return window.pwned === undefined")
    assert page.all("img[src='x']") == []

    # cancel the timer as the admin
    button = page.css(f"button.cancel-timer[data-timer='{timer_id}']")
    button.click()
    browser.switch_to.alert.accept()
    page.wait(lambda d: not page.all(f"tr.timer-row[data-timer='{timer_id}']"))
    assert "Timer cancelled" in page.css("#msg").text
    assert timer_id not in [t[0] for t in _open_timers(w, lead)]
    with w.services.session() as s:
        (cancel,) = [
            r
            for r in audit.for_record(s, w.member_id, "lead", lead)
            if r.rule == "app.timer_cancel"
        ]
    assert cancel.action["by_user"] == 1 and cancel.action["kind"] == kind

    # the clock moves past the due time: the cancelled timer is not claimed, nothing fires
    from app.timers.clock import tick
    from app.timers.clocks import ManualClock

    tick(w.services, ManualClock(datetime.now(UTC) + timedelta(days=60)))
    with w.services.session() as s:
        assert s.get(Timer, timer_id).state == "cancelled"

    # reopened: the cancel is in the audit, the timer is gone
    page = portal_page(w).open(
        "CRM_LEAD_DETAIL_TAB", {"ID": str(lead)}, handler="automation_lead", lang="en"
    )
    page.wait(lambda d: page.all("tr.audit-row"))
    assert "app.timer_cancel" in {el.text for el in page.all("td.rule")}
    assert not page.all(f"tr.timer-row[data-timer='{timer_id}']")


def test_a_manager_sees_no_cancel_button_and_the_api_refuses_them(world, portal_page, browser):
    w = world
    lead = w.lead_from("manual", title=HOSTILE, phone="+79004445566")
    w.settle()
    (timer_id, _, _), *_ = _open_timers(w, lead)
    page = portal_page(w).open(
        "CRM_LEAD_DETAIL_TAB", {"ID": str(lead)}, handler="automation_lead", lang="en", user_id=2
    )
    page.wait(lambda d: page.all("tr.timer-row"))
    assert page.all("button.cancel-timer") == []
    assert HOSTILE in page.css("#record").text  # the title, escaped, shown as text
    assert browser.execute_script("return window.pwned === undefined")
    # the page's own bearer (user 2) cannot cancel through the API either
    cfg = browser.execute_script("return JSON.parse(document.getElementById('cfg').textContent)")
    answer = requests.post(
        f"{w.services.settings.app_base_url}/pages/{w.member_id}/timers/{timer_id}/cancel?lang=en",
        headers={"Authorization": f"Bearer {cfg['bearer']}"},
        timeout=10,
    )
    assert answer.status_code == 403 and "administrator" in answer.json()["error"].lower()
    assert timer_id in [t[0] for t in _open_timers(w, lead)]

    # metal's Object has the tab too, bound to the installed smart process's id
    obj = w.add(w.object_etid, {"title": HOSTILE, "parentId1": lead}, user_id=2)
    w.settle()
    placement = f"CRM_DYNAMIC_{w.object_etid}_DETAIL_TAB"
    tab = portal_page(w).open(placement, {"ID": str(obj)}, handler="automation_object", user_id=2)
    tab.wait(lambda d: tab.all("#record"))
    assert tab.css("#record").text == f"#{obj} «{HOSTILE}»"
    assert browser.execute_script("return window.pwned === undefined")


def test_dry_run_page_shows_the_counts_for_an_admin_only(world, portal_page, browser):
    w = world
    for i in range(2):
        w.lead_from("manual", title=f"Lead {i}", phone=f"+7900777000{i}")
    w.settle()
    for lang in ("en", "ru"):
        page = portal_page(w).open("CRM_ANALYTICS_MENU", {}, handler="dry_run", lang=lang)
        page.wait(lambda d, p=page: p.all("#dr-run"))
        page.css("#dr-days").clear()
        page.css("#dr-days").send_keys("7")
        page.css("#dr-run").click()
        page.wait(lambda d, p=page: p.all("#dr-summary"))
        page.screenshot(f"dry_run_{lang}")
    rows = {
        r.find_elements("tag name", "td")[0].text: r.find_elements("tag name", "td")[1].text
        for r in page.all("#dr-rules tr")[1:]
    }
    # the same counts the real run wrote into the audit for these leads (each rule once a lead)
    from app.store.audit import AuditEntry

    with w.services.session() as s:
        acted = {(r.rule, r.record_id, r.cause) for r in s.query(AuditEntry)}
    expected = {}
    for rule, _, _ in acted:
        expected[rule] = str(int(expected.get(rule, "0")) + 1)
    assert rows == expected and rows, (rows, expected)
    staff = portal_page(w).open("CRM_ANALYTICS_MENU", {}, handler="dry_run", user_id=2)
    assert "administrator" in staff.text() or "администратор" in staff.text()
    assert staff.all("#dr-run") == []
