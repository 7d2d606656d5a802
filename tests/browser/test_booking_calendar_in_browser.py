"""The kitchens «Замер» tab in a real browser: the measurers' week calendar, booking a slot
and seeing it taken, a second manager (with the page still showing it free) refused as the
API answers, moving and cancelling the booking, the day view; screenshots in ru and en."""

from __future__ import annotations

import pytest

from tests.e2e._metal_world import MetalWorld, portal_world
from tests.e2e.test_widgets_e2e import _qualify

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

MEASURER = 5
TAB = "CRM_LEAD_DETAIL_TAB"


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(
        tmp_path,
        redis_url,
        playbooks=["kitchens"],
        world_class=MetalWorld,
        settings={"kitchens": {"measurer_user_ids": [MEASURER]}},
    )


def _lead(w, title):
    lead = w.lead_from("call", title=title, email="kitchen@example.ru")
    w.settle()
    _qualify(w, lead)
    return lead


def _open(page, lead, *, user_id=1, lang="ru"):
    page.open(TAB, {"ID": str(lead)}, handler="measurement", user_id=user_id, lang=lang)
    page.wait(lambda d: page.all("#cal table"))
    # the page asks before moving or cancelling: a person says yes
    page.driver.execute_script("window.confirm = function(){ return true; };")
    return page


def _cell(page, start):
    (found,) = [
        e
        for e in page.all(f"#cal [data-measurer='{MEASURER}']")
        if e.get_attribute("data-start") == start
    ]
    return found


def _state(page, start) -> str:
    """What the calendar shows at ``start`` (read in one go: the page redraws itself)."""
    return page.driver.execute_script(
        """var start = arguments[0], found = null;
        document.querySelectorAll("#cal [data-start]").forEach(function (e) {
          if (e.getAttribute("data-start") === start) found = e;
        });
        if (!found) return null;
        return found.tagName === "BUTTON" ? "free" : found.getAttribute("data-state");""",
        start,
    )


def _day_view(page):
    """Switch to the day view and step forward to a working day (today may be a weekend)."""
    page.css("#view-day").click()
    page.wait(lambda d: " — " not in page.css("#range").text)
    for _ in range(3):
        shown = page.css("#range").text
        if page.all("#cal table"):
            return
        page.css("#next").click()
        page.wait(lambda d, shown=shown: page.css("#range").text != shown)
        page.wait(lambda d: page.all("#cal table") or page.all("#cal .off"))
    assert page.all("#cal table")


def _msg(page, text):
    try:
        page.wait(lambda d: text in page.css("#msg").text)
    except Exception:
        raise AssertionError(page.css("#msg").text) from None


def _switch(page, handle):
    page.driver.switch_to.window(handle)
    page.driver.switch_to.frame(page.driver.find_element("id", "app-frame"))


def test_book_refuse_move_cancel_and_the_day_view(world, portal_page, browser):
    w = world
    first, second = _lead(w, "Кухня Ивановых"), _lead(w, "Кухня Петровых")
    page = portal_page(w)

    # a second manager has lead 2's tab open: the whole week is free
    _open(page, second, user_id=2)
    stale = browser.current_window_handle
    slot = page.css("#cal .slot").get_attribute("data-start")
    assert _state(page, slot) == "free"

    # meanwhile the first manager books that slot for lead 1 in another tab
    browser.switch_to.new_window("tab")
    fresh = browser.current_window_handle
    _open(page, first)
    page.screenshot("booking-calendar-week-ru")
    wishes = "Позвонить за час, домофон 12 <b>"
    page.css("#wishes").send_keys(wishes)  # «фиксирует особые пожелания заказчика»
    _cell(page, slot).click()
    _msg(page, "Замер назначен.")
    w.settle()  # the booking job writes the wishes on the lead
    assert w.item(1, first)[w.uf("lead", "UF_CRM_KT_WISHES")] == wishes
    # the tab's bearer named who booked (the portal told who was looking): the audit says so
    from app.store.audit import AuditEntry

    with w.services.session() as s:
        causes = {r.cause for r in s.query(AuditEntry).filter_by(rule="kitchens.booking")}
    assert causes and all(c.endswith(" by user 1") for c in causes), causes
    page.wait(lambda d: _state(page, slot) == "this_lead")
    assert "этот лид" in _cell(page, slot).text
    assert page.css("#booking").is_displayed() and page.all("#no-booking") == []

    # the second manager still sees it free and clicks it: the API's refusal is shown
    _switch(page, stale)
    _cell(page, slot).click()
    _msg(page, "Замерщик занят")  # as the API words it
    assert "error" in page.css("#msg").get_attribute("class")
    assert page.all("#offers .slot"), "free times are offered instead"
    page.wait(lambda d: _state(page, slot) == "busy")
    assert page.all("#no-booking")  # nothing was booked for lead 2

    # the first manager moves the booking to another free slot, then cancels it
    _switch(page, fresh)
    later = [b.get_attribute("data-start") for b in page.all("#cal .slot")]
    target = next(s for s in later if s != slot)
    _cell(page, target).click()
    _msg(page, "Замер перенесён.")
    page.wait(lambda d: _state(page, target) == "this_lead")
    page.wait(lambda d: _state(page, slot) == "free")  # the old time is free again
    page.css("#cancel").click()
    _msg(page, "Замер отменён.")
    page.wait(lambda d: _state(page, target) == "free")
    assert page.all("#no-booking")

    # the day view: one date, a column per measurer
    _day_view(page)
    header = [th.text for th in page.all("#cal th")]
    assert header[0] == "Время" and len(header) == 2  # time + the one measurer
    page.screenshot("booking-calendar-day-ru")
    browser.close()
    browser.switch_to.window(stale)


def test_the_calendar_in_english_escapes_the_lead_and_is_bookable(world, portal_page, browser):
    w = world
    lead = _lead(w, "<script>window.pwned=1</script>")
    page = _open(portal_page(w), lead, lang="en")
    shown = page.text().casefold()  # headings and buttons are capitalised by the shared CSS
    assert "measurers' calendar" in shown and "week" in shown
    heads = [th.text for th in page.all("#cal th")]
    assert heads[0] == "Time" and any(h.startswith(("Mon", "Tue", "Wed")) for h in heads)
    page.screenshot("booking-calendar-week-en")
    page.css("#cal .slot").click()
    _msg(page, "Measurement booked.")
    page.wait(lambda d: page.all("#cal .mine"))
    assert "this lead" in page.css("#cal .mine").text
    assert browser.execute_script("return window.pwned === undefined")
    _day_view(page)
    page.screenshot("booking-calendar-day-en")
