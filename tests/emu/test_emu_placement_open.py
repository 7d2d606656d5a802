"""Opening a bound placement the way a portal does (§3.2, §8.11): the frame form reaches
the bound handler, its AUTH_ID is the viewing user's app token (``app.info`` accepts it),
and older builds' form without APPLICATION_TOKEN can be posted too."""

from __future__ import annotations

import json

import requests


def _bind(installed_app, receiver, placement="CRM_LEAD_DETAIL_TAB", path="tab"):
    installed_app["rest"].call(
        "placement.bind", {"PLACEMENT": placement, "HANDLER": receiver.url(path), "TITLE": "Tab"}
    )


def test_frame_form_carries_everything_a_widget_needs(emulator, installed_app, receiver):
    _bind(installed_app, receiver)
    answer = emulator.admin.post(
        f"apps/{installed_app['client_id']}/open",
        {"placement": "CRM_LEAD_DETAIL_TAB", "options": {"ID": "7"}, "user_id": 2},
    )
    assert answer["status"] == 200
    frame = receiver.wait_for("tab")[0]
    assert frame.query["DOMAIN"] == emulator.domain and frame.query["PROTOCOL"] == "0"
    assert frame.form["member_id"] == emulator.portal.member_id
    assert frame.form["APPLICATION_TOKEN"] == installed_app["application_token"]
    assert json.loads(frame.form["PLACEMENT_OPTIONS"]) == {"ID": "7"}
    info = requests.post(emulator.rest_url + "app.info", json={"auth": frame.form["AUTH_ID"]})
    assert info.status_code == 200 and info.json()["result"]["INSTALLED"] is True


def test_older_builds_post_no_application_token(emulator, installed_app, receiver):
    _bind(installed_app, receiver)
    emulator.admin.post(
        f"apps/{installed_app['client_id']}/open",
        {"placement": "CRM_LEAD_DETAIL_TAB", "options": {"ID": "7"}, "application_token": False},
    )
    frame = receiver.wait_for("tab")[0]
    assert "APPLICATION_TOKEN" not in frame.form and "APPLICATION_SCOPE" not in frame.form
    assert frame.form["AUTH_ID"]


def test_a_forged_auth_id_is_refused_by_app_info(emulator, installed_app):
    info = requests.post(emulator.rest_url + "app.info", json={"auth": "f" * 64})
    assert info.status_code == 401 and info.json()["error"] == "invalid_token"


def test_an_unbound_placement_cannot_be_opened(emulator, installed_app):
    resp = requests.post(
        emulator.base_url + f"/_emu/apps/{installed_app['client_id']}/open",
        json={"placement": "CRM_DEAL_DETAIL_TAB", "options": {"ID": "1"}},
    )
    assert resp.status_code >= 400
    assert "not bound" in resp.text


def test_frame_host_page_posts_the_same_form_into_an_iframe(emulator, installed_app, receiver):
    """The browser variant (b24emu/frame_host.py): a host page whose hidden form targets the
    iframe and the bound handler, with every field escaped."""
    import html as html_lib
    import re

    _bind(installed_app, receiver)
    client = installed_app["client_id"]
    opts = json.dumps({"ID": "7", "note": '"><script>x</script>'})
    page = requests.get(
        f"{emulator.base_url}/_emu/apps/{client}/frame",
        params={"placement": "CRM_LEAD_DETAIL_TAB", "options": opts, "user_id": "2"},
        timeout=10,
    )
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    body = page.text
    assert '<form id="frame-form" method="post" target="app-frame"' in body
    action = html_lib.unescape(re.search(r'action="([^"]+)"', body).group(1))
    assert action.startswith(receiver.url("tab") + "?DOMAIN=")
    fields = {
        k: html_lib.unescape(v)
        for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', body)
    }
    assert fields["member_id"] == emulator.portal.member_id
    assert json.loads(fields["PLACEMENT_OPTIONS"])["note"] == '"><script>x</script>'
    assert "<script>x</script>" not in body.replace("<\\/script>", "")  # escaped everywhere
    assert fields["APPLICATION_TOKEN"] == installed_app["application_token"]
    missing = requests.get(
        f"{emulator.base_url}/_emu/apps/{client}/frame", params={"placement": "TASK_VIEW_TAB"}
    )
    assert missing.status_code == 404 and "not bound" in missing.text
    js = requests.get(f"{emulator.base_url}/_emu/bx24.js", timeout=10)
    assert js.headers["Content-Type"].startswith("application/javascript")
    assert "fitWindow" in js.text and "installFinish" in js.text


def test_frame_host_page_refuses_malformed_options_with_a_400(emulator, installed_app, receiver):
    _bind(installed_app, receiver)
    url = f"{emulator.base_url}/_emu/apps/{installed_app['client_id']}/frame"
    for params, why in (
        ({"options": "{ID: 7"}, "options is not valid JSON"),
        ({"options": "[1, 2]"}, "options must be a JSON object"),
        ({"user_id": "admin"}, "user_id must be a number"),
    ):
        resp = requests.get(url, params={"placement": "CRM_LEAD_DETAIL_TAB", **params}, timeout=10)
        assert resp.status_code == 400 and why in resp.text
