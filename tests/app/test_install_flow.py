"""POST /install against the real emulator: verified installs store and enqueue; forged,
unknown or unverifiable ones change nothing, enqueue nothing and call no foreign host."""

from __future__ import annotations

import http.server
import threading

import pytest

from app.store import installations as inst
from app.web import create_app


@pytest.fixture
def emu():
    from b24emu.testing import running_emulator

    with running_emulator() as handle:
        yield handle


CLIENT_ID = "local.0a1b2c3d4e5f60.12345678"  # our app on the emulator (B24_CLIENT_ID)


@pytest.fixture
def svc(make_services, emu):
    return make_services(emulator_address=emu.domain, b24_client_id=CLIENT_ID)


@pytest.fixture
def client(svc):
    return create_app(services=svc).test_client()


@pytest.fixture
def portal_app(emu):
    """An app installed on the emulator: (client_id, application_token, fresh tokens)."""
    app = emu.register_app(client_id=CLIENT_ID)
    outcome = emu.admin.post(f"apps/{app['client_id']}/install", {})
    tokens = emu.admin.post(f"apps/{app['client_id']}/tokens", {})
    return app["client_id"], outcome["application_token"], tokens


@pytest.fixture
def stub():
    """A foreign HTTP host that counts every request it receives."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"result": {"ID": 1, "VERSION": 1}}')

        do_GET = do_POST  # noqa: N815

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def app_info_calls(emu) -> int:
    return emu.admin.get("requests")["calls"].get("app.info", 0)


def install_post(client, domain, tokens, app_token, **overrides):
    body = {
        "AUTH_ID": tokens["access_token"],
        "AUTH_EXPIRES": "3600",
        "REFRESH_ID": tokens["refresh_token"],
        "SERVER_ENDPOINT": tokens["server_endpoint"],
        "APPLICATION_TOKEN": app_token,
        "APPLICATION_SCOPE": tokens["scope"],
        "member_id": tokens["member_id"],
        "status": "L",
        "PLACEMENT": "DEFAULT",
    }
    body.update(overrides)
    body = {k: v for k, v in body.items() if v is not None}
    query = {"DOMAIN": domain, "PROTOCOL": "0", "LANG": "en", "APP_SID": "5552d735db7b7b4d"}
    return client.post("/install", query_string=query, data=body)


def row(svc, member_id):
    with svc.session() as s:
        return inst.get(s, member_id)


def queued(svc, name="sync"):
    return [(j.func_name, j.args) for j in svc.queue(name).get_jobs()]


def test_valid_install_stores_verified_tokens_and_enqueues_installer(svc, client, emu, portal_app):
    _, app_token, tokens = portal_app
    resp = install_post(client, emu.domain, tokens, app_token)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "installFinish" in page
    assert "X-Frame-Options" not in resp.headers  # the portal shows it in an iframe
    stored = row(svc, tokens["member_id"])
    assert stored.domain == emu.domain
    assert stored.client_endpoint == f"http://{emu.domain}/rest/"
    assert (stored.access_token, stored.refresh_token) == (
        tokens["access_token"],
        tokens["refresh_token"],
    )
    assert stored.application_token == app_token
    assert stored.status == "installing"
    assert stored.playbooks == ["metal"]
    assert queued(svc) == [("app.jobs.install.install_portal", [tokens["member_id"]])]
    assert app_info_calls(emu) == 1
    # the status endpoint the page polls knows this install, and shows no secret
    view = page.split("/install/status/")[1].split('"')[0]
    status = client.get(f"/install/status/{view}").get_json()
    assert status["status"] == "installing" and status["progress"] == "queued"
    assert tokens["access_token"] not in str(status)


def test_a_non_admin_cannot_replace_the_apps_tokens(svc, client, emu, portal_app):
    """Issue #20 way in 3: any portal user who opens the app gets their own AUTH_ID/REFRESH_ID
    in the frame form (settings/app-installation, §3.2) and posted them to /install. Only an
    administrator may install: ``user.admin`` (api-reference/common/users/user-admin.md)
    must answer true for the posted token."""
    client_id, app_token, admin_tokens = portal_app
    assert install_post(client, emu.domain, admin_tokens, app_token).status_code == 200
    svc.queue("sync").empty()
    manager = emu.admin.post(f"apps/{client_id}/tokens", {"user_id": 3})  # not an admin
    resp = install_post(client, emu.domain, manager, app_token)
    assert resp.status_code == 403
    assert "administrator" in resp.get_data(as_text=True)
    stored = row(svc, admin_tokens["member_id"])
    assert stored.access_token == admin_tokens["access_token"]
    assert stored.refresh_token == admin_tokens["refresh_token"]
    assert queued(svc) == []


def test_a_token_of_another_app_on_the_portal_is_refused(svc, client, emu, portal_app):
    """app.info answers any app's token; its CODE must be ours
    (api-reference/common/system/app-info.md)."""
    _, app_token, tokens = portal_app
    other = emu.register_app()
    emu.admin.post(f"apps/{other['client_id']}/install", {})
    foreign = emu.admin.post(f"apps/{other['client_id']}/tokens", {})
    resp = install_post(client, emu.domain, foreign, app_token)
    assert resp.status_code == 401
    assert row(svc, tokens["member_id"]) is None
    assert queued(svc) == []


def test_without_a_configured_client_id_nothing_is_trusted(make_services, emu, portal_app):
    svc = make_services(emulator_address=emu.domain)  # B24_CLIENT_ID unset
    _, app_token, tokens = portal_app
    resp = install_post(create_app(services=svc).test_client(), emu.domain, tokens, app_token)
    assert resp.status_code == 401
    assert row(svc, tokens["member_id"]) is None


def test_an_unreachable_portal_is_a_502_that_names_nothing(make_services, portal_app):
    from b24emu.testing import free_port

    address = f"127.0.0.1:{free_port()}"  # nobody listens: the answer must not say so
    svc = make_services(emulator_address=address, b24_client_id=CLIENT_ID)
    _, app_token, tokens = portal_app
    resp = install_post(
        create_app(services=svc).test_client(), address, tokens, app_token,
        SERVER_ENDPOINT=f"http://{address}/rest/",
    )  # fmt: skip
    assert resp.status_code == 502
    text = resp.get_data(as_text=True)
    assert "Error" not in text and "127.0.0.1" not in text and "unreachable" not in text


def test_forged_token_on_allowed_portal_is_refused_and_nothing_stored(svc, client, emu, portal_app):
    _, app_token, tokens = portal_app
    resp = install_post(client, emu.domain, tokens, app_token, AUTH_ID="f" * 64)
    assert resp.status_code == 401
    assert row(svc, tokens["member_id"]) is None
    assert queued(svc) == []


def test_domain_off_the_allow_list_gets_no_outbound_call(svc, client, emu, portal_app, stub):
    _, app_token, tokens = portal_app
    address, hits = stub
    for domain in (address, "evil.example.com", "bitrix24.com.evil.org", "localhost\\.bitrix24.ru"):
        resp = install_post(client, domain, tokens, app_token)
        assert resp.status_code == 403, domain
    assert hits == []
    assert app_info_calls(emu) == 0
    assert row(svc, tokens["member_id"]) is None
    assert queued(svc) == []


def test_oauth_server_off_the_allow_list_is_refused(svc, client, emu, portal_app):
    _, app_token, tokens = portal_app
    resp = install_post(
        client, emu.domain, tokens, app_token, SERVER_ENDPOINT="https://oauth.evil.org/rest/"
    )
    assert resp.status_code == 403
    assert row(svc, tokens["member_id"]) is None
    assert app_info_calls(emu) == 0


def test_missing_fields_are_a_clear_400(svc, client, emu, portal_app):
    _, app_token, tokens = portal_app
    resp = install_post(client, emu.domain, tokens, app_token, member_id=None)
    assert resp.status_code == 400
    assert "member_id" in resp.get_data(as_text=True)
    assert app_info_calls(emu) == 0


def test_reinstall_with_unverified_token_keeps_working_tokens(svc, client, emu, portal_app):
    _, app_token, tokens = portal_app
    assert install_post(client, emu.domain, tokens, app_token).status_code == 200
    svc.queue("sync").empty()
    resp = install_post(
        client, emu.domain, tokens, app_token, AUTH_ID="e" * 64, REFRESH_ID="d" * 64
    )
    assert resp.status_code == 401
    stored = row(svc, tokens["member_id"])
    assert (stored.access_token, stored.refresh_token) == (
        tokens["access_token"],
        tokens["refresh_token"],
    )
    assert queued(svc) == []


def test_existing_member_id_cannot_move_to_another_domain(svc, client, emu, portal_app):
    _, app_token, tokens = portal_app
    assert install_post(client, emu.domain, tokens, app_token).status_code == 200
    calls = app_info_calls(emu)
    other = make_other_allowed(svc)
    resp = install_post(client, other, tokens, app_token)
    assert resp.status_code == 403
    assert row(svc, tokens["member_id"]).domain == emu.domain
    assert app_info_calls(emu) == calls


def make_other_allowed(svc):
    # a cloud domain on the default allow-list; refused before any call is made
    return "someone.bitrix24.com"


def test_reinstall_with_a_proven_token_replaces_tokens(svc, client, emu, portal_app):
    client_id, app_token, tokens = portal_app
    assert install_post(client, emu.domain, tokens, app_token).status_code == 200
    newer = emu.admin.post(f"apps/{client_id}/tokens", {})
    assert install_post(client, emu.domain, newer, app_token).status_code == 200
    assert row(svc, tokens["member_id"]).access_token == newer["access_token"]


@pytest.fixture
def oauth_setup(make_services, emu):
    """The app registered on the emulator with our client credentials configured."""
    app = emu.register_app(client_id=CLIENT_ID)
    outcome = emu.admin.post(f"apps/{app['client_id']}/install", {})
    tokens = emu.admin.post(f"apps/{app['client_id']}/tokens", {})
    svc = make_services(
        emulator_address=emu.domain,
        b24_client_id=app["client_id"],
        b24_client_secret=app["client_secret"],
    )
    return svc, create_app(services=svc).test_client(), outcome["application_token"], tokens


def test_with_client_credentials_member_id_is_proven_at_the_oauth_server(oauth_setup, emu):
    svc, client, app_token, tokens = oauth_setup
    assert install_post(client, emu.domain, tokens, app_token).status_code == 200
    stored = row(svc, tokens["member_id"])
    # the refresh token was exchanged: the stored pair is the fresh one from the OAuth server
    assert stored.refresh_token != tokens["refresh_token"]
    assert stored.access_token != tokens["access_token"]
    assert emu.admin.get("requests")["http"].get("oauth/token") == 1
    profile = requests_profile(emu, stored.access_token)
    assert profile.status_code == 200


def test_forged_member_id_with_a_real_token_is_refused(oauth_setup, emu):
    svc, client, app_token, tokens = oauth_setup
    victim = "0123456789abcdef0123456789abcdef"
    resp = install_post(client, emu.domain, tokens, app_token, member_id=victim)
    assert resp.status_code == 403
    assert row(svc, victim) is None and row(svc, tokens["member_id"]) is None
    assert queued(svc) == []


def requests_profile(emu, access_token):
    import requests

    return requests.post(f"{emu.rest_url}profile", json={"auth": access_token}, timeout=10)
