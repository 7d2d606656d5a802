"""The existing lead tab in a real browser, opened through the portal's frame POST: the page
loads the BX24 library the app is configured with, fits its frame, and shows a hostile lead
title as text."""

from __future__ import annotations

import pytest

from tests.e2e._metal_world import MetalWorld, portal_world

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["metal"], world_class=MetalWorld)


def test_lead_tab_renders_a_script_title_as_text_and_fits_its_frame(world, portal_page, browser):
    w = world
    hostile = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
    lead = w.lead_from("manual", title=hostile)
    obj = w.add(w.object_etid, {"title": hostile, "parentId1": lead}, user_id=2)
    w.rest(
        "crm.item.update",
        {"entityTypeId": 1, "id": lead, "fields": {w.uf("lead", "UF_CRM_MT_OBJECT"): obj}},
    )
    w.settle()

    page = portal_page(w).open("CRM_LEAD_DETAIL_TAB", {"ID": str(lead)}, handler="lead_object")
    page.wait(lambda d: hostile in page.text())
    assert browser.execute_script("return window.pwned === undefined")
    assert page.all("img[src='x']") == []
    # BX24.fitWindow reached the portal page: the frame took the page's height
    page.wait(lambda d: page.frame_height() > 0 and page.frame_height() != 900)
