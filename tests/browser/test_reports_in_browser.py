"""The reports menu (CRM_ANALYTICS_MENU, api-reference/widgets/crm/analytics-menu.md) in a
real browser on a metal portal with leads: pick a report, change the period, see the table
and a bar per manager in the chart, filter by manager and by deal pipeline, download the CSV;
a manager named ``<script>`` is text everywhere."""

from __future__ import annotations

import csv
import io

import pytest
import requests

from tests.e2e._metal_world import MetalWorld, portal_world

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["metal"], world_class=MetalWorld)


def _rename(w, user_id: int, name: str) -> None:
    """The portal's user gets a new name and the app reads the users again, as its periodic
    refresh does (app.people.refresh: user.get)."""
    from datetime import UTC, datetime

    from app import people

    w.emu.portal.users[user_id].update({"NAME": name, "LAST_NAME": ""})
    people.refresh(
        w.services.session, w.services.portal(w.member_id), w.member_id, datetime.now(UTC)
    )


def _wait_for_report(page, name: str) -> None:
    page.wait(
        lambda d: d.execute_script(
            "var r = document.getElementById('rp-result');"
            "var m = document.getElementById('rp-msg');"
            "return r.dataset.report === arguments[0] && m.textContent === '';",
            name,
        )
    )


def _show(page, **values) -> None:
    """Set filters as a person does and press «Show»; waits until the answer is drawn."""
    page.driver.execute_script("document.getElementById('rp-result').dataset.report = '';")
    for field, value in values.items():
        page.driver.execute_script(
            "document.getElementById(arguments[0]).value = arguments[1];", f"rp-{field}", value
        )
    page.css("#rp-show").click()
    _wait_for_report(page, page.css("#rp-report").get_attribute("value"))


def _table_rows(page, index: int = 0) -> list[list[str]]:
    table = page.all("#rp-result .rp-table")[index]
    return [
        [td.text for td in tr.find_elements("css selector", "td")]
        for tr in table.find_elements("css selector", "tr")[1:]
    ]


def test_reports_page_filters_draws_and_downloads(world, portal_page, browser):
    from selenium.webdriver.support.ui import Select

    w = world
    leads = [w.lead_from("manual", title=f"Лид {who}", assignedById=who) for who in (3, 3, 4)]
    w.settle()
    _rename(w, 3, HOSTILE)

    page = portal_page(w).open("CRM_ANALYTICS_MENU", handler="reports", lang="en")
    page.wait(lambda d: page.all("#rp-report"))
    Select(page.css("#rp-report")).select_by_value("metal_managers")
    _wait_for_report(page, "metal_managers")

    # the table: one row per manager with the leads they got; the chart: one bar per row
    rows = {r[0]: int(r[1]) for r in _table_rows(page)}
    assert rows == {HOSTILE: 2, "Мария Кузнецова": 1}
    bars = page.all(".rp-chart svg rect.rect")
    assert len(bars) == len(rows) == int(page.css(".rp-chart").get_attribute("data-marks"))
    assert HOSTILE in page.text()  # the manager's name is text, in the table and the chart
    assert browser.execute_script("return window.pwned === undefined")
    assert page.all("img[src='x']") == []
    page.screenshot("reports-en")

    # a period without leads: no rows, no chart
    _show(page, since="2020-01-01", until="2020-01-31")
    assert "No data for the period" in page.text()
    assert page.all(".rp-chart") == []

    # back to this month, only the hostile-named manager
    today = page.driver.execute_script("return document.getElementById('rp-until').defaultValue")
    _show(page, since=today[:8] + "01", until=today)
    Select(page.css("#rp-manager")).select_by_visible_text(HOSTILE)
    _show(page)
    assert [r[:2] for r in _table_rows(page)] == [[HOSTILE, "2"]]
    assert len(page.all(".rp-chart svg rect.rect")) == 1

    # the manager's two leads became won deals: one in the portal's default pipeline, one in
    # metal's «Metal structures»; choosing that pipeline counts its deal only, leads stay whole
    won = page.all("#rp-result .rp-table th")
    won = [h.text for h in won].index("Won")
    w.add(2, {"title": "Сделка A", "leadId": leads[0], "assignedById": 3, "stageId": "WON"})
    metal = {"categoryId": w.naming.category("metal.deal"), "leadId": leads[1]}
    w.add(
        2,
        {
            "title": "Сделка B",
            "assignedById": 3,
            **metal,
            "stageId": w.stage("deal", "metal.deal.signed"),
        },
    )
    w.settle()
    _show(page)
    assert [[r[1], r[won]] for r in _table_rows(page)] == [["2", "2"]]
    choices = [o.text for o in Select(page.css("#rp-pipeline")).options]
    assert choices == ["All", "Default pipeline", "Metal structures"]
    Select(page.css("#rp-pipeline")).select_by_visible_text("Metal structures")
    _show(page)
    assert [[r[1], r[won]] for r in _table_rows(page)] == [["2", "1"]]
    assert "leads are in no pipeline and all count" in page.text()
    page.screenshot("reports-pipeline-en")
    Select(page.css("#rp-pipeline")).select_by_visible_text("All")

    # CSV: the button fetches it with the page's bearer and saves the Blob
    page.css("#rp-csv").click()
    page.wait(lambda d: "Downloaded metal_managers_" in page.css("#rp-msg").text)
    bearer = page.css("#reports").get_attribute("data-bearer")
    api = w.services.settings.app_base_url + page.css("#reports").get_attribute("data-api")
    resp = requests.get(
        f"{api}metal_managers/csv",
        params={"since": today[:8] + "01", "until": today, "lang": "en"},
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=30,
    )
    assert resp.content.startswith(b"\xef\xbb\xbf")
    got = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert got[0] == ["Managers' work on leads"] and got[1][:2] == ["Manager", "Leads"]
    assert {r[0]: int(r[1]) for r in got[2 : 2 + len(rows)]} == rows

    # the same page in Russian, the default language
    ru = portal_page(w).open("CRM_ANALYTICS_MENU", handler="reports", lang="ru")
    ru.wait(lambda d: ru.all("#rp-report"))
    Select(ru.css("#rp-report")).select_by_value("metal_managers")
    _wait_for_report(ru, "metal_managers")
    assert "Работа менеджеров с лидами" in ru.text() and "Менеджер" in ru.text()
    assert len(ru.all(".rp-chart svg rect.rect")) == len(rows)
    ru.screenshot("reports-ru")
