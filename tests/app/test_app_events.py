"""POST /app-events (ONAPPINSTALL/ONAPPUPDATE/ONAPPUNINSTALL) against the real emulator."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from app.jobs.install import confirm_app_event, confirm_uninstall
from app.store import installations as inst
from app.web import create_app

CT = "application/x-www-form-urlencoded"


@pytest.fixture
def emu():
    from b24emu.testing import running_emulator

    with running_emulator(rotate_application_token_on_update=True) as handle:
        yield handle


CLIENT_ID, CLIENT_SECRET = "local.a11ce0000000bb.00000020", "s3cret-of-our-app"


@pytest.fixture
def svc(make_services, emu):
    return make_services(
        emulator_address=emu.domain, b24_client_id=CLIENT_ID, b24_client_secret=CLIENT_SECRET
    )


@pytest.fixture
def client(svc):
    return create_app(services=svc).test_client()


@pytest.fixture
def installed(svc, emu):
    """App installed on the emulator and stored as the installer POST would (verified)."""
    app = emu.register_app(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    client_id = app["client_id"]
    outcome = emu.admin.post(f"apps/{client_id}/install", {})
    tokens = emu.admin.post(f"apps/{client_id}/tokens", {})
    with svc.session.begin() as s:
        inst.upsert_verified(
            s,
            tokens["member_id"],
            domain=emu.domain,
            client_endpoint=f"http://{emu.domain}/rest/",
            server_endpoint=tokens["server_endpoint"],
            auth_mode="oauth",
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            expires_at=tokens["expires"],
            application_token=outcome["application_token"],
            app_version="1",
            status="active",
        )
    return {"client_id": client_id, "app_token": outcome["application_token"], **tokens}


def event_body(name, tokens, app_token, *, with_tokens=True, data=None, **auth_over):
    auth = {
        "domain": tokens.get("domain_override") or tokens["portal_domain"],
        "client_endpoint": tokens["client_endpoint"],
        "server_endpoint": tokens["server_endpoint"],
        "member_id": tokens["member_id"],
        "application_token": app_token,
    }
    if with_tokens:
        auth.update(
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            expires="1716498251",
            scope=tokens["scope"],
            user_id="1",
        )
    auth.update(auth_over)
    pairs = [("event", name), ("event_handler_id", "2"), ("ts", "1716594651")]
    pairs += [(f"data[{k}]", v) for k, v in (data or {"LANGUAGE_ID": "en"}).items()]
    pairs += [(f"auth[{k}]", v) for k, v in auth.items() if v is not None]
    return urlencode(pairs)


def post(client, body):
    return client.post("/app-events", data=body, content_type=CT)


def row(svc, member_id):
    with svc.session() as s:
        return inst.get(s, member_id)


def jobs(svc):
    return [(q, j.func_name, j.args) for q in ("sync", "events") for j in svc.queue(q).get_jobs()]


@pytest.fixture
def tok(installed, emu):
    return {**installed, "portal_domain": emu.domain}


def test_uninstall_with_wrong_token_changes_nothing(svc, client, tok):
    body = event_body("ONAPPUNINSTALL", tok, "0" * 32, with_tokens=False)
    assert post(client, body).status_code == 401
    stored = row(svc, tok["member_id"])
    assert stored.status == "active" and stored.access_token == tok["access_token"]
    assert jobs(svc) == []


def _timer(svc, member_id, hours=3):
    from datetime import UTC, datetime, timedelta

    from app.timers import service as timers

    with svc.session.begin() as s:
        return timers.start_timer(
            s, member_id, kind="escalate", due_at=datetime.now(UTC) + timedelta(hours=hours),
            record=("lead", 15), key=f"escalate:lead:15:{hours}",
        )  # fmt: skip


def _timer_state(svc, timer_id):
    from app.timers import service as timers

    with svc.session() as s:
        t = timers.get(s, timer_id)
        return t.state, t.outcome


def test_forged_uninstall_with_the_stored_token_wipes_nothing(svc, client, tok):
    """Issue #20 way in 5: ONAPPUNINSTALL carries only the application token — which every
    frame form hands to any user (APPLICATION_TOKEN). The portal removes the app's API
    access BEFORE the event (api-reference/common/events/on-app-uninstall.md), so while our
    stored token still works on the portal, the event is forged: nothing is wiped."""
    timer_id = _timer(svc, tok["member_id"])
    body = event_body("ONAPPUNINSTALL", tok, tok["app_token"], with_tokens=False)
    assert post(client, body).status_code == 202
    stored = row(svc, tok["member_id"])
    assert stored.status == "active" and stored.access_token == tok["access_token"]
    [(queue, func, args)] = jobs(svc)
    assert (queue, func, args) == (
        "events",
        "app.jobs.install.confirm_uninstall",
        [tok["member_id"]],
    )
    assert confirm_uninstall(*args)["outcome"] == "refused"
    stored = row(svc, tok["member_id"])
    assert stored.status == "active" and stored.application_token == tok["app_token"]
    assert _timer_state(svc, timer_id)[0] == "pending"


def test_real_uninstall_wipes_secrets_and_pauses_timers_a_reinstall_resumes(
    svc, client, tok, emu, monkeypatch
):
    from app.jobs.install import install_portal

    timer_id = _timer(svc, tok["member_id"])
    emu.admin.post(f"apps/{tok['client_id']}/uninstall", {})
    body = event_body("ONAPPUNINSTALL", tok, tok["app_token"], with_tokens=False)
    assert post(client, body).status_code == 202
    assert confirm_uninstall(tok["member_id"])["outcome"] == "uninstalled"
    stored = row(svc, tok["member_id"])
    assert stored.status == "uninstalled"
    assert (stored.access_token, stored.refresh_token, stored.application_token) == (None,) * 3
    state, outcome = _timer_state(svc, timer_id)
    assert state == "paused" and "uninstalled" in outcome
    assert confirm_uninstall(tok["member_id"])["outcome"] == "skipped"  # replay: no-op
    # a reinstall within the retention window brings the follow-up back: install_portal
    # resumes paused timers when the playbooks are in (its installer is replaced here)
    import app.installers.run as run

    with svc.session.begin() as s:
        inst.upsert_verified(s, tok["member_id"], status="installing")
    monkeypatch.setattr(run, "install_playbooks", lambda *a, **k: {"ok": True})
    assert install_portal(tok["member_id"])["outcome"] == "ok"
    assert _timer_state(svc, timer_id) == ("pending", None)
    assert row(svc, tok["member_id"]).status == "active"


def test_paused_timers_older_than_retention_are_cancelled_on_reinstall(svc, tok):
    from datetime import UTC, datetime, timedelta

    from app.timers import service as timers

    timer_id = _timer(svc, tok["member_id"])
    with svc.session.begin() as s:
        assert timers.pause_all_for_portal(s, tok["member_id"], "app uninstalled") == 1
    later = datetime.now(UTC) + timers.PAUSED_RETENTION + timedelta(hours=1)
    with svc.session.begin() as s:
        assert timers.resume_paused(s, tok["member_id"], now=later) == (0, 1)
    assert _timer_state(svc, timer_id)[0] == "cancelled"


def test_unknown_member_is_refused_with_nothing_enqueued(svc, client, tok, emu):
    body = event_body("ONAPPINSTALL", {**tok, "member_id": "b" * 32}, tok["app_token"])
    assert post(client, body).status_code == 401
    assert row(svc, "b" * 32) is None
    assert jobs(svc) == []
    assert emu.admin.get("requests")["calls"].get("app.info", 0) == 0


def test_another_domain_in_a_proved_event_is_checked_never_adopted(svc, client, tok, emu):
    """A renamed portal names its new domain (was: 403 until the next token refresh, and an
    update in that hour was lost). The application token proves the event; the domain is
    only its claim: nothing calls it, and the address check refreshes at the STORED server."""
    body = event_body("ONAPPUPDATE", {**tok, "domain_override": "x.bitrix24.com"}, tok["app_token"])
    assert post(client, body).status_code == 200
    assert jobs(svc) == [
        ("sync", "app.jobs.events.confirm_portal_address", [tok["member_id"]]),
        ("sync", "app.jobs.install.install_portal", [tok["member_id"]]),
    ]
    assert row(svc, tok["member_id"]).domain == emu.domain
    assert emu.admin.get("requests")["calls"] == {}  # no call made while answering
    svc.queue("sync").empty()
    assert post(client, body).status_code == 200  # a second one within the cooldown
    assert [j[1] for j in jobs(svc)] == ["app.jobs.install.install_portal"]


def test_a_rotated_token_naming_another_domain_is_refused_after_the_address_check(
    svc, client, tok, emu
):
    emu.admin.post(f"apps/{tok['client_id']}/update", {})
    new_token = next(
        a["application_token"] for a in emu.admin.get("apps") if a["client_id"] == tok["client_id"]
    )
    fresh = emu.admin.post(f"apps/{tok['client_id']}/tokens", {})
    claim = {**tok, **fresh, "domain_override": "x.bitrix24.com"}
    assert post(client, event_body("ONAPPUPDATE", claim, new_token)).status_code == 202
    [(_, _, args)] = jobs(svc)
    svc.queue("events").empty()
    assert confirm_app_event(*args)["outcome"] == "refused"
    stored = row(svc, tok["member_id"])
    assert (stored.domain, stored.application_token) == (emu.domain, tok["app_token"])
    calls = emu.admin.get("requests")
    assert calls["http"].get("oauth/token") == 1  # the one check, at the stored server
    assert calls["calls"].get("app.info", 0) == 0  # the claimed domain was never called


def test_install_event_with_a_different_token_than_stored_is_refused(svc, client, tok, emu):
    body = event_body("ONAPPINSTALL", tok, "1" * 32)
    assert post(client, body).status_code == 401
    assert row(svc, tok["member_id"]).application_token == tok["app_token"]
    assert jobs(svc) == []
    assert emu.admin.get("requests")["calls"].get("app.info", 0) == 0


def test_non_lifecycle_or_malformed_posts_are_400(client, tok):
    assert post(client, event_body("ONCRMLEADADD", tok, tok["app_token"])).status_code == 400
    assert post(client, "auth[a]=1&auth[a][b]=2&event=ONAPPUPDATE").status_code == 400


def test_update_with_same_token_reruns_installer_but_records_no_claimed_version(svc, client, tok):
    body = event_body("ONAPPUPDATE", tok, tok["app_token"], data={"VERSION": "99"})
    assert post(client, body).status_code == 200
    assert row(svc, tok["member_id"]).app_version == "1"  # only app.info answers set it
    assert jobs(svc) == [("sync", "app.jobs.install.install_portal", [tok["member_id"]])]


def test_update_rotates_the_token_after_app_info_proves_the_event(svc, client, tok, emu):
    emu.admin.post(f"apps/{tok['client_id']}/update", {})
    new_token = next(
        a["application_token"] for a in emu.admin.get("apps") if a["client_id"] == tok["client_id"]
    )
    assert new_token != tok["app_token"]
    fresh = emu.admin.post(f"apps/{tok['client_id']}/tokens", {})
    body = event_body("ONAPPUPDATE", {**tok, **fresh}, new_token, data={"VERSION": "2"})
    assert post(client, body).status_code == 202
    assert row(svc, tok["member_id"]).application_token == tok["app_token"]  # not yet trusted
    [(queue, func, args)] = jobs(svc)
    assert (queue, func) == ("events", "app.jobs.install.confirm_app_event")
    assert fresh["access_token"] not in str(args)  # tokens never travel in job arguments
    svc.queue("events").empty()
    assert confirm_app_event(*args)["outcome"] == "confirmed"
    stored = row(svc, tok["member_id"])
    assert stored.application_token == new_token
    # the tokens stored are the pair the OAuth server issued for the event's refresh token
    assert stored.refresh_token not in (fresh["refresh_token"], tok["refresh_token"])
    assert emu.admin.get("requests")["http"].get("oauth/token") == 1
    assert stored.app_version == "2"
    assert jobs(svc) == [("sync", "app.jobs.install.install_portal", [tok["member_id"]])]
    # the old token no longer authenticates anything
    old = event_body("ONAPPUNINSTALL", tok, tok["app_token"], with_tokens=False)
    assert post(client, old).status_code == 401


def test_forged_rotation_is_refused_by_the_job(svc, client, tok):
    forged = {**tok, "access_token": "f" * 64}
    body = event_body("ONAPPUPDATE", forged, "9" * 32)
    assert post(client, body).status_code == 202
    [(_, _, args)] = jobs(svc)
    svc.queue("events").empty()
    assert confirm_app_event(*args)["outcome"] == "refused"
    stored = row(svc, tok["member_id"])
    assert stored.application_token == tok["app_token"]
    assert stored.access_token == tok["access_token"]
    assert jobs(svc) == []


def test_first_install_event_stores_token_once_verified(svc, client, tok):
    with svc.session.begin() as s:
        inst.get(s, tok["member_id"]).application_token = None
    body = event_body("ONAPPINSTALL", tok, tok["app_token"], data={"VERSION": "1"})
    assert post(client, body).status_code == 202
    [(_, _, args)] = jobs(svc)
    assert confirm_app_event(*args)["outcome"] == "confirmed"
    assert row(svc, tok["member_id"]).application_token == tok["app_token"]


@pytest.mark.parametrize("who", ["manager_of_our_app", "admin_of_another_app", "no_update"])
def test_forged_update_never_hands_over_the_tokens(svc, client, tok, emu, who):
    """Issue #20 way in 1: ONAPPUPDATE posted with any token ``app.info`` answers made the app
    store the attacker's application token and OAuth tokens. Now the token must be OUR app's
    (app.info CODE, api-reference/common/system/app-info.md), its user an administrator
    (api-reference/common/users/user-admin.md), and app.info must report the new version
    (api-reference/common/events/on-app-update.md: the event follows a new version)."""
    if who == "manager_of_our_app":
        emu.admin.post(f"apps/{tok['client_id']}/update", {})
        token = emu.admin.post(f"apps/{tok['client_id']}/tokens", {"user_id": 3})
    elif who == "admin_of_another_app":
        emu.admin.post(f"apps/{tok['client_id']}/update", {})
        other = emu.register_app()
        emu.admin.post(f"apps/{other['client_id']}/install", {})
        token = emu.admin.post(f"apps/{other['client_id']}/tokens", {})
    else:  # our admin's token, but no new version was installed
        token = emu.admin.post(f"apps/{tok['client_id']}/tokens", {})
    body = event_body(
        "ONAPPUPDATE",
        {**tok, "access_token": token["access_token"], "refresh_token": token["refresh_token"]},
        "a77ac4e2" * 4,
        data={"VERSION": "2"},
    )
    assert post(client, body).status_code == 202
    [(_, _, args)] = jobs(svc)
    svc.queue("events").empty()
    assert confirm_app_event(*args)["outcome"] == "refused"
    stored = row(svc, tok["member_id"])
    assert stored.application_token == tok["app_token"]
    assert (stored.access_token, stored.refresh_token) == (
        tok["access_token"],
        tok["refresh_token"],
    )
    assert jobs(svc) == []
    # the portal's real events still authenticate; the attacker's token does not
    real = event_body("ONAPPUPDATE", tok, tok["app_token"])
    assert post(client, real).status_code == 200
    forged = event_body("ONAPPUNINSTALL", tok, "a77ac4e2" * 4, with_tokens=False)
    assert post(client, forged).status_code == 401
