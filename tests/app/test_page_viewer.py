"""Who is looking at a page (user.current + user.admin with the frame's AUTH_ID) and the page
bearer that carries it to our APIs (app.widgets._viewer, app.handlers.page_api).

Docs: api-reference/user/user-current.md, api-reference/common/users/user-admin.md."""

from __future__ import annotations

import pytest
from flask import Blueprint, g, jsonify

from app.store import installations
from app.widgets import WidgetContext, WidgetError
from app.widgets._viewer import Viewer, issue_bearer, page_key, verify_bearer, viewer
from b24emu.testing import running_emulator

APP_TOKEN = "f" * 32
MEMBER = "viewer-member-1"


@pytest.fixture
def emu_app():
    with running_emulator() as emu:
        reg = emu.register_app(scopes=["crm", "user", "placement"])
        emu.admin.post(f"apps/{reg['client_id']}/install", {"user_id": 1})
        yield emu, reg


def _ctx(svc, emu, auth_id, member=MEMBER):
    return WidgetContext(
        member_id=member,
        domain=emu.domain,
        code="settings",
        placement="DEFAULT",
        record_id=None,
        options={},
        lang="en",
        bearer="",
        services=svc,
        auth_id=auth_id,
        auth_expires=3600,
    )


def test_viewer_names_the_user_and_whether_they_are_an_admin(emu_app, make_services):
    emu, reg = emu_app
    svc = make_services(emulator_address=emu.domain, b24_client_id=reg["client_id"])
    cid = reg["client_id"]
    admin_token = emu.admin.post(f"apps/{cid}/tokens", {"user_id": 1})["access_token"]
    staff_token = emu.admin.post(f"apps/{cid}/tokens", {"user_id": 2})["access_token"]
    boss = viewer(_ctx(svc, emu, admin_token))
    staff = viewer(_ctx(svc, emu, staff_token))
    assert boss.user_id == 1 and boss.admin is True and boss.name.strip()
    assert staff.user_id == 2 and staff.admin is False
    # cached: the portal is asked once per token (the request log does not grow)
    before = len(emu.admin.get("requests"))
    assert viewer(_ctx(svc, emu, staff_token)) == staff
    assert len(emu.admin.get("requests")) == before
    # another app's token proves nothing about us
    other = emu.register_app(scopes=["crm", "user"])
    emu.admin.post(f"apps/{other['client_id']}/install", {"user_id": 1})
    foreign = emu.admin.post(f"apps/{other['client_id']}/tokens", {"user_id": 1})["access_token"]
    with pytest.raises(WidgetError) as refused:
        viewer(_ctx(svc, emu, foreign))
    assert refused.value.status == 401


def test_bearer_carries_the_viewer_and_refuses_any_change():
    who = Viewer(7, "Anna", admin=False)
    bearer = issue_bearer(APP_TOKEN, MEMBER, who)
    assert verify_bearer(APP_TOKEN, MEMBER, bearer) == Viewer(7, "", False)
    prefix, expires, user, admin, digest = bearer.split(".")
    promoted = ".".join([prefix, expires, user, "1", digest])
    other_user = ".".join([prefix, expires, "1", admin, digest])
    assert verify_bearer(APP_TOKEN, MEMBER, promoted) is None
    assert verify_bearer(APP_TOKEN, MEMBER, other_user) is None
    assert verify_bearer(APP_TOKEN, "another-portal", bearer) is None
    assert verify_bearer("0" * 32, MEMBER, bearer) is None
    assert verify_bearer(APP_TOKEN, MEMBER, bearer, now=int(expires) + 1) is None
    assert verify_bearer(None, MEMBER, bearer) is None
    assert verify_bearer(APP_TOKEN, MEMBER, "garbage") is None


def test_page_api_needs_a_valid_bearer_and_an_admin_for_changes(services):
    from app.handlers.page_api import page_api
    from app.web import create_app

    with services.session.begin() as s:
        installations.upsert_verified(
            s,
            MEMBER,
            domain="acme.bitrix24.ru",
            client_endpoint="https://acme.bitrix24.ru/rest/",
            auth_mode="oauth",
            access_token="a",
            refresh_token="r",
            application_token=APP_TOKEN,
            status="active",
            playbooks=["metal"],
        )
    bp = Blueprint("viewer_probe", __name__)

    @bp.get("/probe/<member_id>/read")
    @page_api()
    def read(member_id):
        return jsonify({"user": g.viewer.user_id})

    @bp.post("/probe/<member_id>/change")
    @page_api(admin=True)
    def change(member_id):
        return jsonify({"changed_by": g.viewer.user_id})

    app = create_app(services=services)
    app.register_blueprint(bp)
    client = app.test_client()
    key = page_key(services, MEMBER, APP_TOKEN)
    staff = issue_bearer(key, MEMBER, Viewer(2, "", False))
    admin = issue_bearer(key, MEMBER, Viewer(1, "", True))

    def auth(b):
        return {"Authorization": f"Bearer {b}"}

    assert client.get(f"/probe/{MEMBER}/read", headers=auth(staff)).get_json() == {"user": 2}
    refused = client.post(f"/probe/{MEMBER}/change?lang=en", headers=auth(staff))
    assert refused.status_code == 403 and "administrator" in refused.get_json()["error"]
    assert client.post(f"/probe/{MEMBER}/change", headers=auth(admin)).get_json() == {
        "changed_by": 1
    }
    assert client.get(f"/probe/{MEMBER}/read").status_code == 401
    assert client.get("/probe/other-member/read", headers=auth(admin)).status_code == 401
