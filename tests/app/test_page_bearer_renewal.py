"""An admin's page bearer lives minutes and an open page renews it with the viewer's portal
token (``POST /pages/<member_id>/bearer``, app.handlers.page_bearer), so a user whose admin
rights were taken away loses them in our pages within minutes — before, a bearer said
"admin" for an hour and the portal's answer was cached ten minutes.

Against the emulator: the token is proved on the STORED domain (app.info names our app,
user.current + user.admin say who holds it: api-reference/user/user-current.md,
api-reference/common/users/user-admin.md); the page's script gets it from BX24.getAuth
(sdk/bx24-js-sdk/system-functions/bx24-get-auth.md)."""

from __future__ import annotations

import time

import pytest

from app.store import installations
from app.web import create_app
from app.widgets import _viewer
from app.widgets._viewer import page_key, verify_bearer
from b24emu.testing import running_emulator

APP_TOKEN = "a" * 32


@pytest.fixture
def world(make_services):
    with running_emulator() as emu:
        reg = emu.register_app(scopes=["crm", "user", "placement"])
        cid = reg["client_id"]
        emu.admin.post(f"apps/{cid}/install", {"user_id": 1})
        svc = make_services(emulator_address=emu.domain, b24_client_id=cid)
        member = emu.portal.member_id
        with svc.session.begin() as s:
            installations.upsert_verified(
                s, member, domain=emu.domain, application_token=APP_TOKEN, status="active"
            )
        client = create_app(services=svc).test_client()

        def token(user_id):
            return emu.admin.post(f"apps/{cid}/tokens", {"user_id": user_id})["access_token"]

        yield emu, svc, client, member, token, cid


def _renew(client, member, body, lang="en"):
    return client.post(f"/pages/{member}/bearer?lang={lang}", json=body)


def _who(svc, member, bearer):
    return verify_bearer(page_key(svc, member, APP_TOKEN), member, bearer)


def test_an_admin_bearer_lives_minutes_a_staff_one_an_hour(world):
    emu, svc, client, member, token, _ = world
    now = time.time()
    admin = _renew(client, member, {"auth": token(1)})
    assert admin.status_code == 200, admin.get_json()
    body = admin.get_json()
    assert body["admin"] is True
    assert now + _viewer.ADMIN_BEARER_TTL_S - 2 <= body["expires"]
    assert body["expires"] <= time.time() + _viewer.ADMIN_BEARER_TTL_S + 1
    who = _who(svc, member, body["bearer"])
    assert (who.user_id, who.admin) == (1, True)
    staff = _renew(client, member, {"auth": token(2)}).get_json()
    assert staff["admin"] is False and staff["expires"] >= now + _viewer.BEARER_TTL_S - 2
    # the portal's "admin" answer is kept a minute at most, a staff member's longer
    ttls = sorted(svc.redis.ttl(k) for k in svc.redis.scan_iter("b24:widget:viewer:*"))
    assert ttls[0] <= _viewer.ADMIN_CACHE_S < ttls[-1]
    # the audit can name the person who renewed (the settings page keeps names the same way)
    assert svc.redis.get(f"b24:pages:viewer-name:{member}:1")


def test_a_demoted_admin_renews_into_a_staff_bearer_and_is_refused_changes(world):
    emu, svc, client, member, token, _ = world
    admin_token = token(1)
    bearer = _renew(client, member, {"auth": admin_token}).get_json()["bearer"]
    assert _who(svc, member, bearer).admin is True
    emu.portal.users.setdefault(1, {})["ADMIN"] = False  # the portal took the rights away
    for key in svc.redis.scan_iter("b24:widget:viewer:*"):  # ADMIN_CACHE_S has passed
        svc.redis.delete(key)
    renewed = _renew(client, member, {"auth": admin_token}).get_json()
    assert renewed["admin"] is False
    change = client.post(
        f"/pages/{member}/settings/metal?lang=en",
        json={"values": {}},
        headers={"Authorization": f"Bearer {renewed['bearer']}"},
    )
    assert change.status_code == 403
    assert change.get_json()["error"] == "Only a portal administrator can do this"


@pytest.mark.parametrize(
    "body, status",
    [
        ({}, 400),
        ({"auth": ""}, 400),
        ({"auth": 12}, 400),
        ({"auth": "x" * 600}, 400),
        ({"auth": "not-a-token-of-this-portal"}, 401),
    ],
)
def test_a_missing_or_made_up_token_is_refused_in_json(world, body, status):
    emu, svc, client, member, _, _ = world
    answer = _renew(client, member, body)
    assert answer.status_code == status
    assert answer.is_json and answer.get_json()["error"]
    assert "bearer" not in answer.get_json()


def test_another_apps_token_or_another_portal_gets_no_bearer(world):
    emu, svc, client, member, token, _ = world
    other = emu.register_app(scopes=["crm", "user"])
    emu.admin.post(f"apps/{other['client_id']}/install", {"user_id": 1})
    foreign = emu.admin.post(f"apps/{other['client_id']}/tokens", {"user_id": 1})
    assert _renew(client, member, {"auth": foreign["access_token"]}).status_code == 401
    # a member id we have no installation for, and one that is not a member id at all
    assert _renew(client, "b" * 32, {"auth": token(1)}).status_code == 401
    assert _renew(client, "../x", {"auth": token(1)}).status_code in (401, 404)
    with svc.session.begin() as s:
        installations.get(s, member).status = "uninstalled"
    assert _renew(client, member, {"auth": token(1)}).status_code == 401
