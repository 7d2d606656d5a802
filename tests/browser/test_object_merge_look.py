"""The metal Object merge window in the shared look, in a real browser: the duplicate is
listed in a ui-table, the preview (the merge API's dry run) shows what would change, and the
page is screenshotted in ru and en (``make screenshots``)."""

from __future__ import annotations

import pytest

from tests.e2e._metal_world import MetalWorld, portal_world

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["metal"], world_class=MetalWorld)


def _object(w, title):
    uf = lambda c: w.uf("metal.object", c)  # noqa: E731
    fields = {
        "title": title,
        uf("UF_CRM_OBJ_WIDTH"): 12.5,
        uf("UF_CRM_OBJ_LENGTH"): 24,
        uf("UF_CRM_OBJ_HEIGHT"): 6,
        uf("UF_CRM_OBJ_AREA"): 300,
        uf("UF_CRM_OBJ_SITE"): "Казань",
        uf("UF_CRM_OBJ_PURPOSE"): w.purpose("metal.object", "warehouse"),
    }
    return w.add(w.object_etid, fields, user_id=2)


def test_merge_window_lists_the_duplicate_and_previews_in_the_shared_look(world, portal_page):
    w = world
    main = _object(w, "Склад на Мира")
    dup = _object(w, "Склад Мира (дубль)")
    w.settle()
    tab = f"CRM_DYNAMIC_{w.object_etid}_DETAIL_TAB"
    for lang, words in (("en", "Preview"), ("ru", "Показать")):
        page = portal_page(w).open(tab, {"ID": str(main)}, handler="object_merge", lang=lang)
        _preview(page, words, dup)
        page.screenshot(f"object_merge_{lang}")


def _preview(page, words, dup):
    page.wait(lambda d: words.lower() in page.text().lower())
    assert "ui-table" in page.css("#candidates").get_attribute("class")
    assert f"#{dup}" in page.css("#candidates").text
    # same look as the settings page: Bitrix24-like buttons from the shared stylesheet
    assert page.css("#merge").value_of_css_property("text-transform") == "uppercase"
    page.css("#preview").click()
    page.wait(lambda d: f"#{dup}" in page.css("#plan").text)
    assert page.css("#merge").is_enabled()
