"""The app's home (placement DEFAULT) in a real browser, opened the way the portal opens it:
an admin changes settings and the next lead follows them; a wrong number is refused next to
its field and nothing is saved; "12,5" is 12.5; a non-admin sees the settings read-only and
the API refuses them; a second playbook is enabled from the page and its install progress
runs to the end. Screenshots in ru and en (``make screenshots``)."""

from __future__ import annotations

import pytest

from app.playbooks.settings import effective, set_value
from app.store.setting_changes import CLI, SettingChange
from tests.e2e._metal_world import MetalWorld, portal_world

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def world(tmp_path, redis_url):
    for w in portal_world(tmp_path, redis_url, playbooks=["metal"], world_class=MetalWorld):
        # the app's main page: the portal posts the DEFAULT frame to the app's handler URL
        (app_state,) = w.emu.portal.core.apps.values()
        app_state.handler_url = f"{w.services.settings.app_base_url}/"
        yield w


def _metal_settings(w):
    with w.services.session() as s:
        return effective(s, w.member_id, "metal")


def _audit(w):
    with w.services.session() as s:
        return [(r.user_id, r.key, r.new_value) for r in s.query(SettingChange)]


def _type(page, selector, text):
    box = page.css(selector)
    box.clear()
    box.send_keys(text)


def _text(page, selector):
    """What the element says, before CSS (labels are shown in capitals)."""
    return page.css(selector).get_attribute("textContent")


def _save(page):
    page.css("form[data-playbook='metal'] button.save").click()


def test_admin_changes_settings_and_the_next_lead_follows_them(world, portal_page):
    w = world
    page = portal_page(w).open("DEFAULT", lang="en", user_id=1)
    page.wait(lambda d: "Sales automation: settings" in page.text())
    page.screenshot("settings_playbooks_en")
    page.css("[data-tab='pb-metal']").click()
    density = "#f-metal-steel_density_t_per_m2"

    # "abc" in a number field: the message stands next to the field, nothing is saved
    _type(page, density, "abc")
    _type(page, "#f-metal-title_template", "Order {site} {area}")
    _save(page)
    error = "[data-error-for='steel_density_t_per_m2']"
    page.wait(lambda d: "not a number" in page.css(error).text)
    assert "ui-ctl-invalid" in page.css(density).get_attribute("class")
    assert "Nothing was saved" in page.css("form[data-playbook='metal'] .form-status").text
    assert _metal_settings(w)["steel_density_t_per_m2"] == 0.035
    assert _metal_settings(w)["title_template"].startswith("{source}")
    assert _audit(w) == []

    # "12,5" is a number: the whole form is saved, audited with the admin
    _type(page, density, "12,5")
    _save(page)
    page.wait(
        lambda d: "Changes saved: 2" in page.css("form[data-playbook='metal'] .form-status").text
    )
    assert page.css(error).text == ""
    values = _metal_settings(w)
    assert values["steel_density_t_per_m2"] == 12.5
    assert values["title_template"] == "Order {site} {area}"
    assert sorted(_audit(w)) == [
        (1, "steel_density_t_per_m2", 12.5),
        (1, "title_template", "Order {site} {area}"),
    ]
    page.screenshot("settings_form_en")
    page.css("[data-tab='history']").click()
    page.wait(lambda d: "title_template" in page.css("#history").text)
    assert "Order {site} {area}" in page.css("#history").text

    # the next lead follows the new template
    site = w.uf("lead", "UF_CRM_MT_SITE")
    dims = {
        w.uf("lead", "UF_CRM_MT_WIDTH"): 10,
        w.uf("lead", "UF_CRM_MT_LENGTH"): 30,
        w.uf("lead", "UF_CRM_MT_HEIGHT"): 6,
        site: "Казань",
        w.uf("lead", "UF_CRM_MT_PURPOSE"): w.purpose("lead", "warehouse"),
    }
    lead = w.lead_from("webform", email="buyer@stroy.ru", **dims)
    w.settle()
    assert w.item(1, lead)["title"] == "Order Казань 300"


def test_a_non_admin_sees_the_settings_read_only_and_cannot_save(world, portal_page, browser):
    w = world
    hostile = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
    with w.services.session.begin() as s:  # an admin stored a hostile text via the CLI
        set_value(s, w.member_id, "metal", "resume_task_text", hostile, actor=CLI)
    page = portal_page(w).open("DEFAULT", lang="ru", user_id=2)
    page.wait(lambda d: "только администратор" in page.text())
    page.css("[data-tab='pb-metal']").click()
    assert page.css("#f-metal-untouched_alert_hours").get_attribute("disabled") is not None
    assert page.all("button.save") == [] and page.all(".pb-toggle") == []
    # stored values are text, in the form and in the history
    assert page.css("#f-metal-resume_task_text").get_attribute("value") == hostile
    page.css("[data-tab='history']").click()
    page.wait(lambda d: hostile in page.css("#history").text and "CLI" in page.css("#history").text)
    assert browser.execute_script("return window.pwned === undefined")
    assert page.all("img[src='x']") == []
    # even with the page's own bearer, the API refuses a non-admin
    status = browser.execute_async_script(
        """var done=arguments[0],cfg=JSON.parse(document.getElementById('cfg').textContent);
        fetch('/pages/'+cfg.member+'/settings/metal',{method:'POST',headers:{
          'Authorization':'Bearer '+cfg.bearer,'Content-Type':'application/json'},
          body:JSON.stringify({values:{untouched_alert_hours:'1'}})})
        .then(function(r){done(r.status);});"""
    )
    assert status == 403
    assert _metal_settings(w)["untouched_alert_hours"] == 24
    page.screenshot("settings_readonly_ru")


def test_enabling_a_second_playbook_shows_its_install_to_the_end(world, portal_page):
    w = world
    page = portal_page(w).open("DEFAULT", lang="ru", user_id=1)
    row = "#playbooks tr[data-playbook='kitchens']"
    page.wait(lambda d: "Выключен" in _text(page, row))
    page.css(f"{row} .pb-toggle").click()
    page.wait(lambda d: page.css("#install-state").text != "")
    w.settle(rounds=8)  # the worker runs the install job
    page.wait(
        lambda d: page.css("#install-state").get_attribute("data-state") == "done", timeout=30
    )
    assert "Включён" in _text(page, row)
    assert _text(page, f"{row} .pb-toggle") == "Отключить"  # and metal may now be disabled
    assert page.css("#playbooks tr[data-playbook='metal'] .pb-toggle").is_enabled()
    assert "откройте приложение заново" in page.css("#reopen").text
    assert page.css("#install-bar").get_attribute("style").replace(" ", "") == "width:100%;"
    assert page.all("#install-steps li")  # the plan's steps as they ran
    assert _installed(w) == ["metal", "kitchens"]
    page.screenshot("settings_playbooks_ru")

    # and disabled again: its rules stop, its records and fields stay
    page.css(f"{row} .pb-toggle").click()
    page.wait(lambda d: page.css("#install-state").get_attribute("data-state") == "running")
    w.settle(rounds=8)
    page.wait(
        lambda d: page.css("#install-state").get_attribute("data-state") == "done", timeout=30
    )
    assert "Выключен" in _text(page, row) and _installed(w) == ["metal"]


def _installed(w):
    from app.installers.playbook_set import installed

    with w.services.session() as s:
        return installed(s, w.member_id)


def test_the_admins_tools_sit_on_the_settings_page_and_work_there(world, portal_page):
    """The dry run and metal's Excel import are tabs of the settings page for an admin (the
    sections of app.widgets.dry_run and app.widgets._import_section); a manager has neither."""
    from selenium.webdriver.support.ui import Select

    w = world
    w.lead_from("manual", title="Склад", phone="+79001112233")
    w.settle()
    page = portal_page(w).open("DEFAULT", lang="en", user_id=1)
    page.wait(lambda d: page.all("[data-tab='preview']"))
    page.css("[data-tab='preview']").click()
    Select(page.css("#dr-playbook")).select_by_value("metal")
    page.css("#dr-run").click()
    page.wait(lambda d: page.all("#dr-summary"))
    assert page.css("#tab-preview").is_displayed() and "1" in page.css("#dr-summary").text
    page.css("[data-tab='import']").click()
    assert page.css("#imp-upload").is_displayed()

    staff = portal_page(w).open("DEFAULT", lang="en", user_id=2)
    staff.wait(lambda d: staff.all("[data-tab='history']"))
    assert staff.all("[data-tab='preview']") == [] and staff.all("[data-tab='import']") == []


def test_an_open_page_renews_its_bearer_and_a_demoted_admin_is_refused(
    world, portal_page, monkeypatch
):
    """An admin's bearer lives minutes (here: 2 s). The page left open still saves: its
    script takes the 401, gets the viewer's token from BX24.getAuth, renews the bearer at
    /pages/<member>/bearer and sends again. Once the portal no longer calls the user an
    admin, the renewed bearer is a staff one and the save is refused with the reason."""
    import time

    from app.widgets import _viewer

    w = world
    monkeypatch.setattr(_viewer, "ADMIN_BEARER_TTL_S", 2)
    monkeypatch.setattr(_viewer, "ADMIN_CACHE_S", 1)
    page = portal_page(w).open("DEFAULT", lang="en", user_id=1)
    page.wait(lambda d: "Sales automation: settings" in page.text())
    page.css("[data-tab='pb-metal']").click()
    status = "form[data-playbook='metal'] .form-status"
    time.sleep(2.5)  # the page's bearer has expired
    _type(page, "#f-metal-title_template", "Renewed {site}")
    _save(page)
    page.wait(lambda d: "Changes saved: 1" in page.css(status).text)
    assert _metal_settings(w)["title_template"] == "Renewed {site}"
    renewals = w.emu.admin.get("requests")["calls"]
    assert renewals.get("user.admin", 0) >= 2  # opening, then the renewal asked the portal

    w.emu.portal.users.setdefault(1, {})["ADMIN"] = False  # the portal took the rights away
    time.sleep(2.5)  # the renewed bearer and the cached "admin" answer have both expired
    _type(page, "#f-metal-title_template", "Demoted {site}")
    _save(page)
    page.wait(lambda d: "Only a portal administrator can do this" in page.css(status).text)
    assert _metal_settings(w)["title_template"] == "Renewed {site}"
