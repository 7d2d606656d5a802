"""The OAuth server: grants, rotation, lifetimes, client checks, payment toggle."""

import requests


def _token(emulator, app, **params):
    return requests.get(
        emulator.oauth_token_url,
        params={"client_id": app["client_id"], "client_secret": app["client_secret"], **params},
    )


def test_authorization_code_grant_returns_documented_shape(emulator, installed_app):
    code = emulator.admin.post(f"apps/{installed_app['client_id']}/auth_code", {"user_id": 3})[
        "code"
    ]
    resp = _token(emulator, installed_app, grant_type="authorization_code", code=code)
    body = resp.json()
    assert resp.status_code == 200
    assert set(body) == {
        "access_token",
        "expires",
        "expires_in",
        "scope",
        "domain",
        "server_endpoint",
        "status",
        "client_endpoint",
        "member_id",
        "user_id",
        "refresh_token",
    }
    assert (
        body["client_endpoint"] == emulator.rest_url
        and body["server_endpoint"] == emulator.rest_url
    )
    assert body["user_id"] == 3 and body["expires_in"] == 3600
    assert body["member_id"] == emulator.portal.member_id
    # the token works, as user 3
    profile = requests.post(
        emulator.rest_url + "profile", json={"auth": body["access_token"]}
    ).json()
    assert profile["result"]["ID"] == "3"
    # codes are single-use
    again = _token(emulator, installed_app, grant_type="authorization_code", code=code)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_authorize_endpoint_redirects_with_code(emulator, installed_app):
    resp = requests.get(
        f"{emulator.base_url}/oauth/authorize/",
        params={"client_id": installed_app["client_id"], "state": "s1"},
        allow_redirects=False,
    )
    assert resp.status_code == 200  # no redirect_uri registered: parameters as JSON
    assert resp.json()["state"] == "s1" and resp.json()["domain"] == emulator.domain


def test_refresh_rotates_and_old_refresh_token_is_single_use(emulator, installed_app):
    first = installed_app["tokens"]
    resp = _token(
        emulator, installed_app, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert resp.status_code == 200
    second = resp.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    reuse = _token(
        emulator, installed_app, grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    assert reuse.json() == {"error": "invalid_grant", "error_description": "Invalid grant"}
    # POST form works as well
    resp = requests.post(
        emulator.oauth_token_url,
        data={
            "grant_type": "refresh_token",
            "client_id": installed_app["client_id"],
            "client_secret": installed_app["client_secret"],
            "refresh_token": second["refresh_token"],
        },
    )
    assert resp.status_code == 200


def test_wrong_secret_is_invalid_client(emulator, installed_app):
    resp = requests.get(
        emulator.oauth_token_url,
        params={
            "grant_type": "refresh_token",
            "client_id": installed_app["client_id"],
            "client_secret": "nope",
            "refresh_token": installed_app["tokens"]["refresh_token"],
        },
    )
    assert resp.json()["error"] == "invalid_client"


def test_payment_required_toggle(emulator, installed_app):
    emulator.configure(payment_required=True)
    resp = _token(
        emulator,
        installed_app,
        grant_type="refresh_token",
        refresh_token=installed_app["tokens"]["refresh_token"],
    )
    assert resp.json() == {"error": "PAYMENT_REQUIRED", "error_description": "Payment required"}


def test_access_token_expires_after_configured_lifetime(emulator, installed_app):
    emulator.configure(access_token_lifetime=60)
    tokens = emulator.admin.post(f"apps/{installed_app['client_id']}/tokens")
    assert tokens["expires_in"] == 60
    ok = requests.post(emulator.rest_url + "profile", json={"auth": tokens["access_token"]})
    assert ok.status_code == 200
    emulator.admin.post("clock", {"advance": 61})
    resp = requests.post(emulator.rest_url + "profile", json={"auth": tokens["access_token"]})
    assert resp.status_code == 401
    assert resp.json() == {
        "error": "expired_token",
        "error_description": "The access token provided has expired.",
    }
    refreshed = _token(
        emulator, installed_app, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    ).json()
    assert (
        requests.post(
            emulator.rest_url + "profile", json={"auth": refreshed["access_token"]}
        ).status_code
        == 200
    )


def test_token_scopes_limit_methods(emulator, receiver):
    app = emulator.register_app(scopes=["crm"], install_event_url=receiver.url("i"))
    emulator.admin.post(f"apps/{app['client_id']}/install")
    token = emulator.admin.post(f"apps/{app['client_id']}/tokens")["access_token"]
    resp = requests.post(emulator.rest_url + "bizproc.robot.list", json={"auth": token})
    assert resp.status_code == 403
    assert resp.json()["error"] == "insufficient_scope"


def test_uninstall_revokes_tokens_and_refresh(emulator, installed_app):
    emulator.admin.post(f"apps/{installed_app['client_id']}/uninstall")
    resp = installed_app["rest"].raw("profile")
    assert (resp.status_code, resp.json()["error"]) == (401, "invalid_token")
    refresh = _token(
        emulator,
        installed_app,
        grant_type="refresh_token",
        refresh_token=installed_app["tokens"]["refresh_token"],
    )
    assert refresh.json()["error"] == "invalid_client"
