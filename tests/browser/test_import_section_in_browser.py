"""The settings page's Excel import section in a real browser (metal, issue #17): an admin
uploads an .xlsx, turns a column off, dry-runs, imports with a real worker, reads the
refusals — the portal is read back. The section is mounted on a probe page bound to a
menu placement for the test (the settings page that includes it is built elsewhere)."""

from __future__ import annotations

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from app.widgets import page, register
from app.widgets._import_section import render_import_section
from app.widgets._viewer import bearer_for
from tests.e2e._metal_world import MetalWorld, portal_world
from tests.e2e.test_import_upload_api import _xlsx

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
PLACEMENT = "CRM_LEAD_LIST_MENU"  # api-reference/widgets/crm/list-menu.md (any menu will do)


@register("import_probe")
def _probe(ctx):
    _viewer, bearer = bearer_for(ctx)
    return page(ctx, "Import", render_import_section(ctx, bearer))


@pytest.fixture
def world(tmp_path, redis_url, monkeypatch):
    from app.playbooks import app_widgets
    from app.playbooks.schema import Text, WidgetSpec

    # the probe is an app page for this test only (the route finds pages there)
    probe = WidgetSpec("import_probe", PLACEMENT, Text("Импорт", "Import"))
    monkeypatch.setattr(app_widgets, "APP_WIDGETS", (*app_widgets.APP_WIDGETS, probe))
    # ... and the installer binds it as it binds every app page
    yield from portal_world(tmp_path, redis_url, playbooks=["metal"], world_class=MetalWorld)


def _work(w):
    queue = w.services.queue("bulk")
    SimpleWorker([queue], connection=w.services.redis, serializer=JSONSerializer).work(burst=True)


def _until(page, w, text):
    for _ in range(20):
        _work(w)
        try:
            page.wait(lambda d: text in page.css("#imp-msg").text, timeout=2)
            return
        except Exception:  # noqa: BLE001 - the job may not be queued yet: work again
            continue
    raise AssertionError(page.css("#imp-msg").text)


def test_an_admin_imports_clients_from_the_settings_page(world, portal_page, browser, tmp_path):
    w = world
    sheet = tmp_path / "clients.xlsx"
    sheet.write_bytes(_xlsx())
    page = portal_page(w).open(PLACEMENT, {}, handler="import_probe", lang="ru")
    try:
        page.wait(lambda d: page.all("#imp-file"))
    except Exception:
        raise AssertionError(page.text()) from None
    page.driver.execute_script("window.confirm = function(){ return true; };")
    page.css("#imp-file").send_keys(str(sheet))
    page.css("#imp-upload").click()
    try:
        page.wait(lambda d: page.all("#imp-columns select"))
    except Exception:
        raise AssertionError(page.css("#imp-msg").text) from None
    headers = [td.text for td in page.all("#imp-columns td:first-child")]
    assert headers[:2] == ["Компания", "ИНН"]
    assert page.css("#imp-run").get_attribute("disabled") is not None  # no dry run yet
    from selenium.webdriver.support.ui import Select

    Select(page.css("#imp-columns select[data-header='ИНН']")).select_by_value("-")
    page.css("#imp-dry").click()
    _until(page, w, "Пробный прогон готов")
    assert "создано: 2" in page.css("#imp-counts").text
    assert "отклонено: 3" in page.css("#imp-counts").text
    assert len(page.all("#imp-rows tr")) == 4  # header + three refused rows
    assert not w.items(4)  # nothing written yet
    page.screenshot("import-section-ru")

    page.css("#imp-run").click()
    _until(page, w, "Импорт завершён.")
    assert sorted(c["title"] for c in w.items(4)) == ["ООО «Сталь-1»", "ООО «Сталь-5»"]
    assert page.all("#imp-csv")
    # a formula-like cell is shown as text and stays text on the portal
    assert browser.execute_script("return document.querySelectorAll('#imp-rows a').length") == 0


def test_the_section_in_english(world, portal_page):
    page = portal_page(world).open(PLACEMENT, {}, handler="import_probe", lang="en")
    page.wait(lambda d: page.all("#imp-file"))
    shown = page.text().casefold()  # buttons are capitalised by the shared CSS
    assert "import clients from excel" in shown and "upload" in shown
    page.screenshot("import-section-en")
