"""Metal «Объект» lead tab in a real browser (spec §1 lead rule 6): a lead without an Object
shows the Objects with its duplicate key; the employee links one, or creates a new Object
from the lead, and the portal is read back. Hostile titles render as text; ru/en."""

from __future__ import annotations

import pytest

from tests.e2e._metal_world import MetalWorld, portal_world

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["metal"], world_class=MetalWorld)


def _dims(w, entity, site):
    prefix = "UF_CRM_OBJ_" if entity == "metal.object" else "UF_CRM_MT_"
    values = {"WIDTH": 12, "LENGTH": 24, "HEIGHT": 6, "AREA": 288, "SITE": site}
    out = {w.uf(entity, prefix + k): v for k, v in values.items()}
    out[w.uf(entity, prefix + "PURPOSE")] = w.purpose(entity, "warehouse")
    return out


def _lead(w, title, site):
    lead = w.lead_from("manual", title=title, **_dims(w, "lead", site))
    w.settle()
    return lead


def _open(page, lead, lang):
    page.open("CRM_LEAD_DETAIL_TAB", {"ID": str(lead)}, handler="lead_object", lang=lang)
    page.wait(lambda d: page.all("#create"))
    return page


def _wait_linked(w, page, text):
    w.settle()
    try:
        page.wait(lambda d: text in page.css("#msg").text, timeout=30)
    except Exception:
        raise AssertionError(page.css("#msg").text) from None


def test_the_employee_links_a_duplicate_or_creates_a_new_object(world, portal_page, browser):
    w = world
    site = "Казань, Заводская 5"
    dup = w.add(w.object_etid, {"title": HOSTILE, **_dims(w, "metal.object", site)}, user_id=2)
    w.settle()
    first = _lead(w, "Склад 1", site)
    second = _lead(w, "Склад 2", site)
    # rule 5 created nothing: a duplicate exists
    assert [o["id"] for o in w.items(w.object_etid)] == [dup]

    page = _open(portal_page(w), first, "ru")
    rows = page.all("#candidates button.link")
    assert [b.get_attribute("data-object") for b in rows] == [str(dup)]
    assert HOSTILE in page.css("#candidates").text  # the title as text, not markup
    assert browser.execute_script("return window.pwned === undefined")
    # the button's own text (the shared CSS shows buttons in capitals)
    assert page.css("#create").get_attribute("textContent").strip() == "Всё равно создать новый"
    page.screenshot("object-choice-ru")

    rows[0].click()
    page.wait(lambda d: "Принято" in page.css("#msg").text)  # the job is queued
    _wait_linked(w, page, f"Объект #{dup} привязан к лиду.")
    assert _object_ids(w, first) == [dup]
    assert w.item(w.object_etid, dup)["parentId1"] == first

    # the second lead: a new Object from its fields
    page = _open(portal_page(w), second, "en")
    shown = page.text().casefold()  # buttons are capitalised by the shared CSS
    assert "link this one" in shown and "create a new one anyway" in shown
    page.screenshot("object-choice-en")
    page.css("#create").click()
    page.wait(lambda d: "Accepted" in page.css("#msg").text)
    _wait_linked(w, page, "is linked to the lead")
    (made,) = [i for i in _object_ids(w, second) if i != dup]
    created = w.item(w.object_etid, made)
    assert created["parentId1"] == second and created["title"] == site
    # it was a choice, not a merge: the duplicate stays
    assert {o["id"] for o in w.items(w.object_etid)} == {dup, made}


def _object_ids(w, lead):
    """The Objects the lead's «Объект» field names (as the portal reads it)."""
    name = w.uf("lead", "UF_CRM_MT_OBJECT")
    raw = w.item(1, lead).get(name)
    values = raw if isinstance(raw, list) else [raw]
    out = []
    for v in values:
        text = str(v or "")
        if text:
            out.append(int(text.rsplit("_", 1)[-1]))
    return out
