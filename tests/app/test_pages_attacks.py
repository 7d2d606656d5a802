"""The portal pages' APIs under attack: each test is the request an attacker would send.

Pages: ``app.handlers.page_api`` (page bearer), ``app.handlers.automation`` (timer cancel,
dry run), ``app.handlers.report_pages`` (reports JSON and CSV). The frame form of newer
portals carries ``APPLICATION_TOKEN`` to every viewing user's browser
(docs/bitrix24-protocol.md §3.2, "What the app URL receives"), so knowing it must not make a
staff member an admin of our pages.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from app.store import installations, mirror
from app.store.timers import PENDING, Timer
from app.timers import service as timers
from app.widgets._viewer import Viewer, issue_bearer, page_key

APP_TOKEN = "a1" * 16
OTHER_TOKEN = "b2" * 16
MEMBER = "attack-member-1"
OTHER = "attack-member-2"


def _install(s, member, token):
    installations.upsert_verified(
        s,
        member,
        domain=f"{member}.bitrix24.ru",
        client_endpoint=f"https://{member}.bitrix24.ru/rest/",
        auth_mode="oauth",
        access_token="a",
        refresh_token="r",
        application_token=token,
        status="active",
        playbooks=["metal"],
    )


@pytest.fixture
def portals(services):
    """Two installations, one open timer each: (timer of MEMBER, timer of OTHER)."""
    with services.session.begin() as s:
        _install(s, MEMBER, APP_TOKEN)
        _install(s, OTHER, OTHER_TOKEN)
        due = datetime.now(UTC) + timedelta(hours=1)
        return tuple(
            timers.start_timer(
                s, member, kind="metal.untouched", due_at=due, record=("lead", 7), key=f"k-{member}"
            )
            for member in (MEMBER, OTHER)
        )


def _bearer(services, member, token, *, user=1, admin=True, ttl=3600):
    key = page_key(services, member, token)
    return issue_bearer(key, member, Viewer(user, "", admin), ttl=ttl)


def _auth(bearer):
    return {"Authorization": f"Bearer {bearer}"}


def _state(services, timer_id):
    with services.session() as s:
        return s.get(Timer, timer_id).state


def test_a_staff_member_who_read_the_application_token_cannot_sign_an_admin_bearer(
    services, flask_client, portals
):
    mine, _ = portals
    # the token arrived in the staff member's own frame form; they sign "admin=1" with it
    forged = issue_bearer(APP_TOKEN, MEMBER, Viewer(2, "", True))
    url = f"/pages/{MEMBER}/timers/{mine}/cancel?lang=en"
    refused = flask_client.post(url, headers=_auth(forged))
    assert refused.status_code == 401 and refused.is_json
    assert _state(services, mine) == PENDING
    dry = flask_client.get(f"/pages/{MEMBER}/dry-run?playbook=metal&days=1", headers=_auth(forged))
    assert dry.status_code == 401


def test_a_bearer_is_worth_nothing_on_another_portal_or_after_it_expired(
    services, flask_client, portals
):
    mine, theirs = portals
    admin_of_a = _bearer(services, MEMBER, APP_TOKEN)
    # replayed against portal B's URL, for B's timer
    other = flask_client.post(f"/pages/{OTHER}/timers/{theirs}/cancel", headers=_auth(admin_of_a))
    assert other.status_code == 401
    # portal A's URL with B's timer id: not found, B's timer untouched
    cross = flask_client.post(f"/pages/{MEMBER}/timers/{theirs}/cancel", headers=_auth(admin_of_a))
    assert cross.status_code == 404 and _state(services, theirs) == PENDING
    # B's admin bearer on A's timer
    admin_of_b = _bearer(services, OTHER, OTHER_TOKEN)
    b_on_a = flask_client.post(f"/pages/{OTHER}/timers/{mine}/cancel", headers=_auth(admin_of_b))
    assert b_on_a.status_code == 404 and _state(services, mine) == PENDING
    expired = _bearer(services, MEMBER, APP_TOKEN, ttl=-1)
    late = flask_client.post(f"/pages/{MEMBER}/timers/{mine}/cancel", headers=_auth(expired))
    assert late.status_code == 401 and _state(services, mine) == PENDING


def test_a_staff_bearer_is_refused_by_the_admin_apis(services, flask_client, portals):
    mine, _ = portals
    staff = _bearer(services, MEMBER, APP_TOKEN, user=2, admin=False)
    cancel = flask_client.post(f"/pages/{MEMBER}/timers/{mine}/cancel", headers=_auth(staff))
    dry = flask_client.get(f"/pages/{MEMBER}/dry-run?playbook=metal&days=1", headers=_auth(staff))
    assert (cancel.status_code, dry.status_code) == (403, 403)
    assert _state(services, mine) == PENDING


@pytest.mark.parametrize("name", ["bearer", "BEARER", "access_token", "Authorization"])
def test_a_bearer_in_the_query_string_is_not_accepted(services, flask_client, portals, name):
    mine, _ = portals
    bearer = _bearer(services, MEMBER, APP_TOKEN)
    url = f"/pages/{MEMBER}/timers/{mine}/cancel?{name}=Bearer%20{bearer}"
    assert flask_client.post(url).status_code == 401
    assert _state(services, mine) == PENDING


def test_a_bearer_that_reaches_a_log_line_is_redacted():
    from config.logging import redact

    bearer = "p1.1999999999.1.1." + "c" * 64
    lines = [
        f"GET /pages/m/reports/x?bearer={bearer}&lang=en",  # an access log's request line
        f"headers: {{'Authorization': 'Bearer {bearer}'}}",
        f"form BEARER={bearer}&x=1",
    ]
    for line in lines:
        assert "c" * 64 not in redact(line) and "***" in redact(line), line


@pytest.mark.parametrize(
    "bearer",
    [
        "p1.\u00b2.1.1." + "0" * 64,  # "²".isdigit() but int("²") raises
        "p1.1999999999.\u00b9.1." + "0" * 64,
        "p1." + "9" * 5000 + ".1.1.x",
        "p1....",
        "p1.1999999999.1.1.\u00e9",
    ],
)
def test_a_garbage_bearer_is_a_json_401_never_a_500(services, flask_client, portals, bearer):
    mine, _ = portals
    resp = flask_client.post(f"/pages/{MEMBER}/timers/{mine}/cancel", headers=_auth(bearer))
    assert resp.status_code == 401 and resp.is_json


@pytest.mark.parametrize("days", ["\u00b2", "\uff13", "-1", "0", "1e3", "99999999999999999999"])
def test_garbage_dry_run_days_are_a_clean_400(services, flask_client, portals, days):
    admin = _bearer(services, MEMBER, APP_TOKEN)
    url = f"/pages/{MEMBER}/dry-run?playbook=metal&days={days}&lang=en"
    resp = flask_client.get(url, headers=_auth(admin))
    assert resp.status_code == 400 and "Days" in resp.get_json()["error"]


def test_a_huge_timer_id_is_a_404_not_a_store_error(services, flask_client, portals):
    admin = _bearer(services, MEMBER, APP_TOKEN)
    resp = flask_client.post(
        f"/pages/{MEMBER}/timers/{'9' * 30}/cancel?lang=en", headers=_auth(admin)
    )
    assert resp.status_code == 404 and resp.is_json


@pytest.mark.parametrize(
    "query",
    [
        "since=9999-12-31&until=9999-12-31",  # the day after overflows
        "since=0001-01-01&until=0001-01-01",
        "since=2026-01-01&until=2026-02-30",
        "since=" + "2" * 5000,
        "manager=" + "x" * 5000,
        "pipeline=" + "9" * 5000,  # never turned into a number: matched as text
        "pipeline=%00",
        "pipeline=-0",
    ],
)
def test_garbage_report_filters_are_a_clean_answer(services, flask_client, portals, query):
    staff = _bearer(services, MEMBER, APP_TOKEN, user=2, admin=False)
    for tail in ("", "/csv"):
        resp = flask_client.get(
            f"/pages/{MEMBER}/reports/metal_managers{tail}?{query}&lang=en", headers=_auth(staff)
        )
        assert resp.status_code in (200, 400), resp.get_data(as_text=True)[:300]
        if resp.status_code == 400:
            assert resp.is_json and resp.get_json()["error"]


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/pages/{m}/timers/{t}/cancel"),  # wrong method
        ("post", "/pages/{m}/dry-run"),
        ("get", "/pages/{m}/no-such-api"),
        ("get", "/pages/{m}/timers/abc/cancel"),
    ],
)
def test_page_api_errors_are_json_not_html(services, flask_client, portals, method, path):
    mine, _ = portals
    admin = _bearer(services, MEMBER, APP_TOKEN)
    resp = getattr(flask_client, method)(path.format(m=MEMBER, t=mine), headers=_auth(admin))
    assert resp.status_code in (404, 405) and resp.is_json, resp.get_data(as_text=True)[:200]


def test_page_api_answers_are_never_cached_nor_sniffed(services, flask_client, portals):
    staff = _bearer(services, MEMBER, APP_TOKEN, user=2, admin=False)
    for path in (
        f"/pages/{MEMBER}/reports/metal_managers",
        f"/pages/{MEMBER}/reports/metal_managers/csv",
        f"/pages/{MEMBER}/dry-run?playbook=metal&days=1",  # a refusal (403) too
        f"/pages/{MEMBER}/reports/metal_managers?since=bad",
    ):
        resp = flask_client.get(path, headers=_auth(staff))
        assert resp.headers.get("Cache-Control") == "no-store", path
        assert resp.headers.get("X-Content-Type-Options") == "nosniff", path


def test_a_crash_in_a_page_api_is_a_json_500_and_other_paths_keep_their_errors(
    services, flask_client, portals, monkeypatch
):
    import app.handlers.report_pages as report_pages

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(report_pages, "build", broken)
    staff = _bearer(services, MEMBER, APP_TOKEN, user=2, admin=False)
    resp = flask_client.get(f"/pages/{MEMBER}/reports/metal_managers", headers=_auth(staff))
    assert resp.status_code == 500 and resp.is_json and "boom" not in resp.get_data(as_text=True)
    elsewhere = flask_client.get("/no-such-path")
    assert elsewhere.status_code == 404 and not elsewhere.is_json


def _leads_in_window(services, count):
    created = datetime.now(UTC) - timedelta(days=2)
    with services.session.begin() as s:
        for rid in range(1, count + 1):
            raw = {
                "id": rid,
                "title": f"Lead {rid}",
                "stageId": "NEW",
                "createdTime": (created + timedelta(minutes=rid)).isoformat(),
            }
            mirror.put(s, MEMBER, "lead", rid, raw)


def test_a_years_dry_run_on_a_big_mirror_replays_a_bounded_number_of_changes(
    services, flask_client, portals, monkeypatch
):
    import app.rules.dry_run as dry_run

    monkeypatch.setattr(dry_run, "PAGE_MAX_STEPS", 2)
    _leads_in_window(services, 3)
    admin = _bearer(services, MEMBER, APP_TOKEN)
    resp = flask_client.get(
        f"/pages/{MEMBER}/dry-run?playbook=metal&days=365", headers=_auth(admin)
    )
    body = resp.get_json()
    assert resp.status_code == 200 and body["truncated"] is True
    assert (body["steps"], body["records"]) == (2, 2)  # the two latest leads only
    oldest_kept = datetime.now(UTC) - timedelta(days=2) + timedelta(minutes=2)
    assert body["covered_since"][:16] == oldest_kept.isoformat()[:16]


def test_a_second_dry_run_while_one_runs_is_refused(services, flask_client, portals):
    admin = _bearer(services, MEMBER, APP_TOKEN)
    services.redis.set(f"b24:dry-run:running:{MEMBER}", "1", ex=60)
    url = f"/pages/{MEMBER}/dry-run?playbook=metal&days=7&lang=en"
    busy = flask_client.get(url, headers=_auth(admin))
    assert busy.status_code == 429 and "already running" in busy.get_json()["error"]
    services.redis.delete(f"b24:dry-run:running:{MEMBER}")
    done = flask_client.get(url, headers=_auth(admin))
    assert done.status_code == 200 and done.get_json()["truncated"] is False
    assert services.redis.get(f"b24:dry-run:running:{MEMBER}") is None  # released


HOSTILE = [
    "<script>window.pwned=1</script>",
    '"><img src=x onerror=window.pwned=1>',
    "</script><script>window.pwned=1</script>",
    "javascript:window.pwned=1",
]


def test_hostile_titles_names_causes_and_errors_render_as_text_on_the_automation_tab(
    services, portals
):
    from app.store import audit, outbox, people
    from app.widgets import WidgetContext
    from app.widgets.automation import render_tab

    evil = " | ".join(HOSTILE)
    tiny = "<img src=x>"  # for the store's short columns (status, channel: 16 characters)
    with services.session.begin() as s:
        people.put(s, MEMBER, {"5": {"name": evil}}, "+03:00", datetime.now(UTC))
        mirror.put(s, MEMBER, "lead", 7, {"id": 7, "title": evil, "stageId": HOSTILE[1]})
        audit.record(
            s,
            member_id=MEMBER,
            entity="lead",
            record_id=7,
            rule=evil,
            cause=f"stage:{HOSTILE[1]}>{HOSTILE[2]}",
            action_type=HOSTILE[0],
            action={"fields": {evil: evil}, "stage": evil},
            status=tiny,
            error=evil,
        )
        audit.record(
            s,
            member_id=MEMBER,
            entity="lead",
            record_id=7,
            rule="metal.x",
            cause="responsible:5",
            action_type="UpdateFields",
            action={},
            status="done",
        )
        outbox.record(
            s,
            MEMBER,
            "m-1",
            rule=evil,
            entity="lead",
            record_id=7,
            wanted=tiny,
            channel=tiny,
            recipient=evil,
            state=tiny,
            error=evil,
        )
    ctx = WidgetContext(
        MEMBER, f"{MEMBER}.bitrix24.ru", "automation_lead", "CRM_LEAD_DETAIL_TAB", 7, {}, "en",
        "", services,
    )  # fmt: skip
    html = str(render_tab(ctx))
    assert "window.pwned" in html  # the values are on the page ...
    for raw in ("<script>window", "<img", "</script><script>", 'onerror=window"'):
        assert raw not in html  # ... but never as markup
    # every <script> block is ours: the config JSON carries no record value
    blocks = re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S)
    assert blocks and not any("pwned" in block for block in blocks)


def test_hostile_manager_names_in_a_chart_are_text_without_handlers_or_links(
    services, flask_client, portals
):
    import xml.etree.ElementTree as ET

    created = datetime.now(UTC) - timedelta(hours=1)
    with services.session.begin() as s:
        from app.store import people

        users = {str(i + 1): {"name": name} for i, name in enumerate(HOSTILE)}
        people.put(s, MEMBER, users, "+00:00", datetime.now(UTC))
        for i in range(len(HOSTILE)):
            raw = {
                "id": i + 1,
                "stageId": "NEW",
                "assignedById": str(i + 1),
                "createdTime": created.isoformat(),
            }
            mirror.put(s, MEMBER, "lead", i + 1, raw, at=created)
    staff = _bearer(services, MEMBER, APP_TOKEN, user=2, admin=False)
    body = flask_client.get(
        f"/pages/{MEMBER}/reports/metal_managers", headers=_auth(staff)
    ).get_json()
    assert {row[0] for row in body["tables"][0]["rows"]} >= set(HOSTILE)
    (chart,) = body["charts"]
    root = ET.fromstring(chart["svg"])
    for node in root.iter():
        assert not node.tag.endswith("script") and not node.tag.endswith("foreignObject")
        for name, value in node.attrib.items():
            assert not name.lower().startswith("on"), (node.tag, name)
            assert not value.strip().lower().startswith("javascript:"), (node.tag, name)


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_a_csv_cell_never_starts_a_formula(services, flask_client, portals, prefix):
    import csv
    import io

    from app.store import people

    name = f'{prefix}HYPERLINK("http://evil","x")'
    created = datetime.now(UTC) - timedelta(hours=1)
    with services.session.begin() as s:
        people.put(s, MEMBER, {"1": {"name": name}}, "+00:00", datetime.now(UTC))
        raw = {"id": 1, "stageId": "NEW", "assignedById": "1", "createdTime": created.isoformat()}
        mirror.put(s, MEMBER, "lead", 1, raw, at=created)
    staff = _bearer(services, MEMBER, APP_TOKEN, user=2, admin=False)
    resp = flask_client.get(f"/pages/{MEMBER}/reports/metal_managers/csv", headers=_auth(staff))
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig")), delimiter=";"))
    cells = [cell for row in rows for cell in row]
    assert "'" + name in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


def test_a_forged_admin_bearer_cannot_change_settings_or_playbooks(services, flask_client, portals):
    from app.playbooks.settings import effective

    forged = issue_bearer(APP_TOKEN, MEMBER, Viewer(2, "", True))  # signed with the frame's token
    body = {"values": {"untouched_alert_hours": "1"}}
    saved = flask_client.post(f"/pages/{MEMBER}/settings/metal", json=body, headers=_auth(forged))
    disabled = flask_client.post(f"/pages/{MEMBER}/install/retry", headers=_auth(forged))
    assert (saved.status_code, disabled.status_code) == (401, 401)
    with services.session() as s:
        assert effective(s, MEMBER, "metal")["untouched_alert_hours"] == 24


def test_a_report_reloaded_in_a_loop_is_limited(services, flask_client, portals):
    import time

    from app.ratelimit import LIMIT, WINDOW_S

    slot = int(time.time()) // WINDOW_S
    for s in (slot, slot + 1):  # the client has used up this window (and the next, if it turns)
        services.redis.set(f"b24:rl:pages:127.0.0.1:{s}", LIMIT, ex=WINDOW_S * 3)
    staff = _bearer(services, MEMBER, APP_TOKEN, user=2, admin=False)
    resp = flask_client.get(f"/pages/{MEMBER}/reports/metal_managers", headers=_auth(staff))
    assert resp.status_code == 429


@pytest.mark.parametrize(
    "code, placement, options",
    [
        ("reports", "CRM_ANALYTICS_MENU", {}),
        ("dry_run", None, {}),
        ("automation_lead", "CRM_LEAD_DETAIL_TAB", {"ID": "7"}),
    ],
)
def test_forged_frame_posts_never_open_a_new_page(services, code, placement, options):
    """No token, portal B's application token for portal A, A's member_id with B's
    DOMAIN: refused before anything is read, framable by nobody but the stored portal."""
    from app.playbooks.app_widgets import APP_WIDGETS
    from app.web import create_app
    from tests.app._widgets_world import APP_TOKEN as A_TOKEN
    from tests.app._widgets_world import install, open_widget

    install(services)
    install(services, member="widgets-member-b", domain="b.bitrix24.ru", app_token="9" * 32)
    client = create_app(services=services).test_client()
    placement = placement or next(s.placement for s in APP_WIDGETS if s.code == code)
    tries = {
        "no token": dict(APPLICATION_TOKEN=None, AUTH_ID=None),
        "B's token": dict(APPLICATION_TOKEN="9" * 32),
        "A's token, B's member": dict(member_id="widgets-member-b", domain="b.bitrix24.ru"),
    }
    for what, form in tries.items():
        resp = open_widget(client, code, placement=placement, options=options, **form)
        assert resp.status_code == 401, what
        assert "frame-ancestors" in resp.headers["Content-Security-Policy"]
        assert resp.headers["Cache-Control"] == "no-store", what
        assert resp.headers["X-Content-Type-Options"] == "nosniff", what
    mismatch = open_widget(
        client, code, placement=placement, options=options, domain="b.bitrix24.ru"
    )
    assert mismatch.status_code == 403
    assert mismatch.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert A_TOKEN not in mismatch.get_data(as_text=True)


def test_placement_options_nested_past_the_parsers_depth_are_a_400(services):
    from app.web import create_app
    from tests.app._widgets_world import install, open_widget

    install(services)
    client = create_app(services=services).test_client()
    deep = "[" * 100_000 + "]" * 100_000
    resp = open_widget(client, "automation_lead", placement="CRM_LEAD_DETAIL_TAB", options=deep)
    assert resp.status_code == 400 and "PLACEMENT_OPTIONS" in resp.get_data(as_text=True)
    # a form past the app's MAX_CONTENT_LENGTH (1 MiB) is werkzeug's 413, shown as a page
    huge = open_widget(client, "automation_lead", placement="CRM_LEAD_DETAIL_TAB", x="y" * 2**20)
    assert huge.status_code == 413 and "Traceback" not in huge.get_data(as_text=True)


def test_before_the_portals_clock_is_cached_report_days_follow_the_time_zone_setting(
    services, flask_client
):
    """No people row yet (first sync not done): the days are cut in the playbooks'
    ``time_zone`` (Europe/Moscow by default), as the automation tab shows times, not UTC."""
    with services.session.begin() as s:
        installations.upsert_verified(
            s, MEMBER, domain="m.bitrix24.ru", client_endpoint="https://m.bitrix24.ru/rest/",
            auth_mode="oauth", access_token="a", refresh_token="r", application_token=APP_TOKEN,
            status="active", playbooks=["metal", "eshop"],
        )  # fmt: skip
        late = datetime(2026, 11, 2, 22, 30, tzinfo=UTC)  # 3 Nov 01:30 in Moscow
        raw = {"id": 1, "stageId": "NEW", "assignedById": "1", "createdTime": late.isoformat()}
        mirror.put(s, MEMBER, "lead", 1, raw, at=late)
    staff = _bearer(services, MEMBER, APP_TOKEN, user=2, admin=False)
    url = f"/pages/{MEMBER}/reports/metal_managers?since=2026-11-03&until=2026-11-03"
    body = flask_client.get(url, headers=_auth(staff)).get_json()
    assert [row[:2] for row in body["tables"][0]["rows"]] == [["#1", 1]]


def test_a_record_with_endless_messages_shows_the_latest_max_rows(services, portals):
    from app.store import outbox
    from app.widgets import WidgetContext
    from app.widgets.automation import MAX_ROWS, render_tab

    with services.session.begin() as s:
        for n in range(MAX_ROWS + 5):
            outbox.record(
                s, MEMBER, f"m-{n}", rule=f"rule-{n}", entity="lead", record_id=7,
                wanted="email", channel="email", recipient="a@b.c", state=outbox.SENT,
            )  # fmt: skip
    ctx = WidgetContext(
        MEMBER, f"{MEMBER}.bitrix24.ru", "automation_lead", "CRM_LEAD_DETAIL_TAB", 7, {}, "en",
        "", services,
    )  # fmt: skip
    html = str(render_tab(ctx))
    assert html.count('class="message-row"') == MAX_ROWS
    assert f"rule-{MAX_ROWS + 4}<" in html and "rule-0<" not in html


def test_hostile_setting_values_and_install_errors_render_as_text_on_the_settings_page(
    services, portals
):
    import hashlib
    import json

    from app.playbooks.settings import set_value
    from app.widgets import WidgetContext
    from app.widgets.settings import render_settings

    evil = " | ".join(HOSTILE)
    with services.session.begin() as s:
        set_value(s, MEMBER, "metal", "resume_task_text", evil)
        set_value(s, MEMBER, "metal", "routing_table", {evil: evil})
        installations.set_progress(s, MEMBER, "failed", error=evil)
    # who looks, as the portal said moments ago (the viewer cache; no portal call here)
    digest = hashlib.sha256(f"{MEMBER}\0viewer-token".encode()).hexdigest()
    who = {"user_id": 1, "name": evil, "admin": True}
    services.redis.set(f"b24:widget:viewer:{digest}", json.dumps(who), ex=60)
    ctx = WidgetContext(
        MEMBER, f"{MEMBER}.bitrix24.ru", "settings", "DEFAULT", None, {}, "en", "", services,
        auth_id="viewer-token", auth_expires=3600,
    )  # fmt: skip
    html = str(render_settings(ctx))
    assert "window.pwned" in html
    for raw in ("<script>window", "<img", "</script><script>", 'onerror=window"'):
        assert raw not in html
    blocks = re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S)
    assert blocks and not any("<img" in b or "<script" in b for b in blocks)


def test_page_apis_during_a_redis_outage_say_try_again(
    services, flask_client, portals, monkeypatch
):
    import redis

    bearer = _bearer(services, MEMBER, APP_TOKEN, user=2, admin=False)

    def down(*args, **kwargs):
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr(type(services.redis), "get", down)
    resp = flask_client.get(f"/pages/{MEMBER}/reports/metal_managers", headers=_auth(bearer))
    assert resp.status_code == 503 and resp.is_json


def test_dry_run_history_keeps_one_copy_per_changed_record_and_none_of_the_rest(services):
    from app.rules.dry_run import history

    now = datetime.now(UTC)
    t0 = now - timedelta(days=3)
    with services.session.begin() as s:
        for n, stage in enumerate(("NEW", "IN_PROCESS", "CONVERTED")):
            raw = {"id": 1, "stageId": stage, "createdTime": t0.isoformat()}
            mirror.put(s, MEMBER, "lead", 1, raw, at=t0 + timedelta(hours=n))
        old = now - timedelta(days=400)
        mirror.put(
            s, MEMBER, "lead", 2, {"id": 2, "stageId": "NEW", "createdTime": old.isoformat()}
        )
    with services.session() as s:
        steps = history(s, MEMBER, ["lead"], now - timedelta(days=7))
    assert [
        (st.record_id, (st.before or {}).get("stageId"), st.after["stageId"]) for st in steps
    ] == [
        (1, None, "NEW"),
        (1, "NEW", "IN_PROCESS"),
        (1, "IN_PROCESS", "CONVERTED"),
    ]
    assert len({id(st.current) for st in steps}) == 1  # one shared copy of lead 1


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/booking/{m}/bookings"),  # POST only
        ("get", "/booking/{m}/no-such-api"),
        ("put", "/objects/{m}/merge"),
        ("get", "/objects/{m}/abc/candidates"),
        ("get", "/imports/{m}/uploads"),  # POST only
        ("get", "/imports/{m}/runs/%C2%B2/report.csv"),
    ],
)
def test_the_older_widget_apis_answer_errors_as_json_too(flask_client, portals, method, path):
    resp = getattr(flask_client, method)(path.format(m=MEMBER))
    assert resp.status_code in (404, 405) and resp.is_json
    assert resp.headers["Cache-Control"] == "no-store"


def test_a_store_error_behind_a_page_api_is_a_json_503(
    services, flask_client, portals, monkeypatch
):
    from sqlalchemy.exc import OperationalError

    import app.handlers.report_pages as report_pages

    def store_down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(report_pages, "build", store_down)
    staff = _bearer(services, MEMBER, APP_TOKEN, user=2, admin=False)
    resp = flask_client.get(f"/pages/{MEMBER}/reports/metal_managers", headers=_auth(staff))
    assert resp.status_code == 503 and resp.is_json and resp.get_json()["error"]
    assert resp.headers["Cache-Control"] == "no-store"


def test_with_a_client_secret_page_keys_need_no_redis_and_outlive_its_loss(
    make_services, monkeypatch
):
    import redis

    from app.web import create_app

    svc = make_services(b24_client_id="local.1.2", b24_client_secret="server-only-secret")
    with svc.session.begin() as s:
        _install(s, MEMBER, APP_TOKEN)
    client = create_app(services=svc).test_client()
    staff = issue_bearer(page_key(svc, MEMBER, APP_TOKEN), MEMBER, Viewer(2, "", False))
    svc.redis.flushdb()  # Redis lost its data: the bearer still holds

    def down(*args, **kwargs):
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr(type(svc.redis), "get", down)
    resp = client.get(f"/pages/{MEMBER}/reports/metal_managers", headers=_auth(staff))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert page_key(svc, MEMBER, APP_TOKEN) != page_key(svc, MEMBER, OTHER_TOKEN)


@pytest.mark.parametrize(
    "code, placement",
    [("automation_lead", "CRM_LEAD_DETAIL_TAB"), ("lead_object", "CRM_LEAD_DETAIL_TAB")],
)
def test_the_application_token_with_a_forged_auth_id_opens_no_page(make_services, code, placement):
    """A former employee kept the APPLICATION_TOKEN their frames carried (§3.2) and posts it
    with a junk AUTH_ID: the gate proves AUTH_ID with app.info (the emulator says no), so
    the page — a lead's automation history, its Object tab — is a 401 showing nothing."""
    from app.web import create_app
    from b24emu.testing import running_emulator
    from tests.app._widgets_world import install, open_widget

    client_id = "local.5e1c0ffee0ab12.00000042"
    with running_emulator() as emu:
        svc = make_services(emulator_address=emu.domain, b24_client_id=client_id)
        app = emu.register_app(client_id=client_id)
        emu.admin.post(f"apps/{app['client_id']}/install", {})
        member = emu.admin.post(f"apps/{app['client_id']}/tokens", {})["member_id"]
        install(svc, member=member, domain=emu.domain, proved_auth_id=None)
        with svc.session.begin() as s:
            mirror.put(s, member, "lead", 7, {"id": 7, "title": "Тайный лид"})
        client = create_app(services=svc).test_client()
        resp = open_widget(
            client, code, placement=placement, options={"ID": "7"}, domain=emu.domain,
            member_id=member, AUTH_ID="f" * 64,
        )  # fmt: skip
        assert resp.status_code == 401
        page = resp.get_data(as_text=True)
        assert "Тайный лид" not in page and "bearer" not in page.lower()
        assert emu.admin.get("requests")["http"].get("app.info", 0) == 1
