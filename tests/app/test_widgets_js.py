"""The widget pages' inline scripts, run under node against a small DOM built from the
rendered page, calling the REAL JSON APIs of our live Flask app with the embedded bearer:
book / clash (409 with offers) / cancel on the measurement tab; preview / merge / queued
journal on the merge window. Skipped where node is not installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.store import bookings, mirror
from app.store.objects_index import ObjectMerge
from app.web import create_app
from tests.app._widgets_world import MEMBER, OBJECT_ETID, install, mirror_lead, open_widget
from tests.support.live_app import live_app

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")
HARNESS = Path(__file__).with_name("_widgets_dom.js")
LEAD_TAB = "CRM_LEAD_DETAIL_TAB"
OBJECT_TAB = f"CRM_DYNAMIC_{OBJECT_ETID}_DETAIL_TAB"


class _Dom(HTMLParser):
    """Elements of the page (tag, id, classes, attributes, ancestor ids, text) and the
    widget's own inline script (the one reading ``cfg``)."""

    VOID = {"input", "br", "meta", "img", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[dict] = []
        self.stack: list[dict] = []
        self.scripts: list[str] = []
        self.helper = ""  # B24Page (app.widgets._page_js): the widget's script may call it

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        spec = {
            "tag": tag,
            "id": attrs.get("id", ""),
            "classes": attrs.get("class", "").split(),
            "attrs": attrs,
            "ancestors": [e["id"] for e in self.stack if e["id"]],
            "text": "",
        }
        self.elements.append(spec)
        if tag not in self.VOID:
            self.stack.append(spec)

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1]["tag"] == tag:
            done = self.stack.pop()
            if tag == "script" and done["attrs"].get("id") == "b24-page-js":
                self.helper = done["text"]
            elif tag == "script" and not done["attrs"].get("type") and "cfg" in done["text"]:
                self.scripts.append(done["text"])

    def handle_data(self, data):
        if self.stack:
            self.stack[-1]["text"] += data


def run_page(page: str, base: str, actions: list) -> dict:
    dom = _Dom()
    dom.feed(page)
    (script,) = dom.scripts
    script = dom.helper + "\n" + script
    payload = {"base": base, "elements": dom.elements, "script": script, "actions": actions}
    done = subprocess.run(
        [NODE, str(HARNESS)], input=json.dumps(payload), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def served(services):
    from app.objects import index
    from app.playbooks.settings import set_value

    index.install()
    install(services, playbooks=("metal", "kitchens"))
    with services.session.begin() as s:
        set_value(s, MEMBER, "kitchens", "measurer_user_ids", [9])
    for lead_id in (7, 8):  # bookings are only for leads this portal has (issue #20)
        mirror_lead(services, MEMBER, lead_id)
    flask_app = create_app(services=services)
    with live_app(flask_app) as server:
        yield flask_app.test_client(), server.url


def _bookings(services, lead_id):
    with services.session() as s:
        return [
            (r.lead_id, r.state)
            for r in s.query(bookings.MeasurementBooking).filter_by(lead_id=lead_id).all()
        ]


def _posts(state):
    """The page's writes (it also reads the calendar and the free slots)."""
    return [f for f in state["fetches"] if f["method"] == "POST"]


def test_measurement_script_books_the_clicked_slot_with_the_bearer(served, services):
    client, base = served
    page = open_widget(client, "measurement", placement=LEAD_TAB, options={"ID": "7"})
    state = run_page(page.get_data(as_text=True), base, [["click", "#slots .slot"]])
    (call,) = _posts(state)
    assert (call["method"], call["url"], call["status"]) == (
        "POST",
        f"/booking/{MEMBER}/bookings",
        201,
    )
    assert call["auth"].startswith("Bearer ") and json.loads(call["body"])["lead_id"] == 7
    assert state["msg"] == "Замер назначен." and "ok" in state["msgClass"]
    assert _bookings(services, 7) == [(7, "active")]
    # no reload (the frame came from the portal's POST): the page asks for the new state
    assert state["reloads"] == 0
    after = sorted(f["url"].split("?")[0] for f in state["fetches"][-2:])  # both asked at once
    assert after == [f"/booking/{MEMBER}/calendar", f"/booking/{MEMBER}/slots"]


def test_measurement_script_shows_a_clash_with_clickable_offers(served, services):
    client, base = served
    page = open_widget(client, "measurement", placement=LEAD_TAB, options={"ID": "7"}).get_data(
        as_text=True
    )
    # another manager takes the same slot while this tab is open
    other = open_widget(client, "measurement", placement=LEAD_TAB, options={"ID": "8"})
    run_page(other.get_data(as_text=True), base, [["click", "#slots .slot"]])
    state = run_page(page, base, [["click", "#slots .slot"]])
    assert _posts(state)[0]["status"] == 409
    assert "error" in state["msgClass"] and state["msg"]
    assert state["offers"], "the free slots offered instead are shown"
    assert _bookings(services, 7) == []


def test_measurement_script_cancels_the_booking(served, services):
    client, base = served
    first = open_widget(client, "measurement", placement=LEAD_TAB, options={"ID": "7"})
    run_page(first.get_data(as_text=True), base, [["click", "#slots .slot"]])
    page = open_widget(client, "measurement", placement=LEAD_TAB, options={"ID": "7"})
    state = run_page(page.get_data(as_text=True), base, [["click", "#cancel"]])
    assert _posts(state)[-1]["url"].endswith("/cancel") and state["msg"] == "Замер отменён."
    assert _bookings(services, 7) == [(7, "cancelled")]


def _object(width=12, **extra):
    return {
        "title": "Склад",
        "UF_CRM_OBJ_WIDTH": width,
        "UF_CRM_OBJ_LENGTH": 25,
        "UF_CRM_OBJ_HEIGHT": 6,
        "UF_CRM_OBJ_AREA": 300,
        "UF_CRM_OBJ_SITE": "Казань",
        "UF_CRM_OBJ_PURPOSE": "warehouse",
        **extra,
    }


def test_merge_script_previews_then_runs_and_waits_for_the_queued_journal(served, services):
    client, base = served
    with services.session.begin() as s:
        mirror.put(s, MEMBER, "metal.object", 31, _object())
        mirror.put(s, MEMBER, "metal.object", 32, _object(UF_CRM_OBJ_TONNAGE=7))
    page = open_widget(client, "object_merge", placement=OBJECT_TAB, options={"ID": "31"})
    actions = [["click", "#preview"], ["click", "#merge"]]
    state = run_page(page.get_data(as_text=True), base, actions)
    preview, merge, journal = state["fetches"]
    assert (preview["url"], preview["status"]) == (f"/objects/{MEMBER}/merge/preview", 200)
    assert "UF_CRM_OBJ_TONNAGE" in state["plan"] and "#32" in state["plan"]
    assert (merge["url"], merge["status"]) == (f"/objects/{MEMBER}/merge", 202)
    assert json.loads(merge["body"])["duplicate_ids"] == [32]
    # no worker ran yet: the journal is unknown, the page keeps waiting instead of failing
    assert journal["status"] == 404
    assert state["msg"] == "Объединение в очереди…" and state["pendingTimers"] == 1
    assert [j.func_name for j in services.queue("sync").get_jobs()] == [
        "app.objects.window.merge_objects"
    ]


def test_merge_script_follows_a_running_journal_on_reopen(served, services):
    client, base = served
    with services.session.begin() as s:
        mirror.put(s, MEMBER, "metal.object", 31, _object())
        s.add(
            ObjectMerge(
                member_id=MEMBER,
                key="r" * 64,
                main_id=31,
                request={},
                plan={},
                steps=[
                    {"n": 0, "kind": "update_main", "state": "applied"},
                    {"n": 1, "kind": "delete", "state": "planned"},
                ],
                state="running",
            )
        )
    page = open_widget(client, "object_merge", placement=OBJECT_TAB, options={"ID": "31"})
    state = run_page(page.get_data(as_text=True), base, [])
    assert state["fetches"][0]["url"] == f"/objects/{MEMBER}/merge/{'r' * 64}"
    assert state["msg"] == "выполняется · 1/2" and state["pendingTimers"] == 1


def test_an_expired_bearer_tells_the_user_to_reopen(served, services):
    client, base = served
    with services.session.begin() as s:
        mirror.put(s, MEMBER, "metal.object", 31, _object())
        mirror.put(s, MEMBER, "metal.object", 32, _object())
    page = open_widget(client, "object_merge", placement=OBJECT_TAB, options={"ID": "31"})
    html = page.get_data(as_text=True)
    cfg_start = html.index('"bearer": "') + len('"bearer": "')
    expired = html[:cfg_start] + "1." + "0" * 64 + html[html.index('"', cfg_start) :]
    state = run_page(expired, base, [["click", "#preview"]])
    assert state["fetches"][0]["status"] == 401
    assert state["msg"] == "Сессия истекла — откройте вкладку заново."
