"""The portal pages' APIs under attack: each test is the request an attacker would send.

Pages: ``app.handlers.page_api`` (page bearer), ``app.handlers.automation`` (timer cancel,
dry run), ``app.handlers.report_pages`` (reports JSON and CSV). The frame form of newer
portals carries ``APPLICATION_TOKEN`` to every viewing user's browser
(docs/bitrix24-protocol.md §3.2, "What the app URL receives"), so knowing it must not make a
staff member an admin of our pages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.store import installations
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
    key = page_key(services.redis, member, token)
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
