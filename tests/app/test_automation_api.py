"""APIs of the «Автоматизация» tab and the dry-run page (app.handlers.automation): the page
bearer decides who may call them; a cancelled timer is audited with its canceller and the
clock never claims it; the dry-run refuses bad input readably and writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.store import audit, installations, mirror
from app.store.timers import CANCELLED, PENDING, Timer
from app.timers import claims
from app.timers import service as timers
from app.widgets._viewer import Viewer, issue_bearer, page_key

APP_TOKEN = "e" * 32
MEMBER = "auto-member-1"
OTHER = "auto-member-2"


def _install(s, member, playbooks=("metal",)):
    installations.upsert_verified(
        s,
        member,
        domain=f"{member}.bitrix24.ru",
        client_endpoint=f"https://{member}.bitrix24.ru/rest/",
        auth_mode="oauth",
        access_token="a",
        refresh_token="r",
        application_token=APP_TOKEN,
        status="active",
        playbooks=list(playbooks),
    )


@pytest.fixture
def portal(services):
    with services.session.begin() as s:
        _install(s, MEMBER)
        _install(s, OTHER)
        due = datetime.now(UTC) + timedelta(hours=1)
        ids = [
            timers.start_timer(
                s, member, kind="metal.untouched", due_at=due, record=("lead", 7), key=f"k-{member}"
            )
            for member in (MEMBER, OTHER)
        ]
    return ids


def _auth(services, user_id, admin, member=MEMBER):
    key = page_key(services, member, APP_TOKEN)
    bearer = issue_bearer(key, member, Viewer(user_id, "", admin))
    return {"Authorization": f"Bearer {bearer}"}


def _state(services, timer_id):
    with services.session() as s:
        return s.get(Timer, timer_id).state


def test_only_an_admin_cancels_and_the_cancel_is_audited_and_final(services, flask_client, portal):
    mine, theirs = portal
    url = f"/pages/{MEMBER}/timers/{mine}/cancel?lang=en"
    assert flask_client.post(url).status_code == 401
    refused = flask_client.post(url, headers=_auth(services, 2, False))
    assert refused.status_code == 403 and "administrator" in refused.get_json()["error"]
    assert _state(services, mine) == PENDING

    done = flask_client.post(url, headers=_auth(services, 1, True))
    assert done.status_code == 200 and done.get_json() == {"cancelled": mine}
    assert _state(services, mine) == CANCELLED
    with services.session() as s:
        (row,) = audit.for_record(s, MEMBER, "lead", 7)
        assert (row.rule, row.action_type, row.status) == (
            "app.timer_cancel",
            "cancel_timer",
            "done",
        )
        assert row.action == {"timer_id": mine, "kind": "metal.untouched", "by_user": 1}
        # the clock, well past the due time, claims only the other portal's timer
        later = datetime.now(UTC) + timedelta(days=2)
        claimed = claims.claim_due(s, later, owner="test")
        s.commit()
    assert [c.timer_id for c in claimed] == [theirs]

    again = flask_client.post(url, headers=_auth(services, 1, True))
    assert again.status_code == 409 and "no longer open" in again.get_json()["error"]
    # another portal's timer is not reachable with this portal's bearer
    foreign = flask_client.post(
        f"/pages/{MEMBER}/timers/{theirs}/cancel", headers=_auth(services, 1, True)
    )
    assert foreign.status_code == 404
    with services.session() as s:
        assert len(audit.for_record(s, MEMBER, "lead", 7)) == 1


def test_dry_run_api_is_for_admins_checks_its_input_and_counts(services, flask_client, portal):
    created = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    with services.session.begin() as s:
        raw = {"id": 5, "title": "Склад", "stageId": "NEW", "createdTime": created}
        mirror.put(s, MEMBER, "lead", 5, raw)
    base = f"/pages/{MEMBER}/dry-run?lang=en"
    assert (
        flask_client.get(
            f"{base}&playbook=metal&days=7", headers=_auth(services, 2, False)
        ).status_code
        == 403
    )
    bad_days = flask_client.get(f"{base}&playbook=metal&days=abc", headers=_auth(services, 1, True))
    assert bad_days.status_code == 400 and "1 to 365" in bad_days.get_json()["error"]
    too_many = flask_client.get(f"{base}&playbook=metal&days=400", headers=_auth(services, 1, True))
    assert too_many.status_code == 400
    unknown = flask_client.get(f"{base}&playbook=nope&days=7", headers=_auth(services, 1, True))
    assert unknown.status_code == 400 and "Unknown playbook" in unknown.get_json()["error"]

    answer = flask_client.get(f"{base}&playbook=metal&days=7", headers=_auth(services, 1, True))
    report = answer.get_json()
    assert answer.status_code == 200
    assert (report["playbook"], report["days"], report["steps"], report["records"]) == (
        "metal",
        7,
        1,
        1,
    )
    # one day back, the lead (created two days ago) is outside the window
    short = flask_client.get(
        f"{base}&playbook=metal&days=1", headers=_auth(services, 1, True)
    ).get_json()
    assert short["steps"] == 0 and short["rules"] == {}
    with services.session() as s:  # nothing written: no audit, no timers beyond the fixture's
        assert s.query(audit.AuditEntry).count() == 0
        assert s.query(Timer).count() == 2


def test_cli_preview_prints_the_counts_and_writes_nothing(services, flask_app, portal):
    created = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    with services.session.begin() as s:
        mirror.put(s, MEMBER, "lead", 9, {"id": 9, "title": "Навес", "createdTime": created})
    runner = flask_app.test_cli_runner()
    args = ["b24", "playbooks", "--portal", MEMBER, "preview", "metal", "--days", "3"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("metal, last 3 day(s): 1 change(s) on 1 record(s)")
    assert "rules (times acted):" in result.output and "timers started:" in result.output
    refused = runner.invoke(args=[*args[:-1], "0"])
    assert refused.exit_code != 0 and "0" in refused.output
    with services.session() as s:
        assert s.query(audit.AuditEntry).count() == 0


def test_contact_tab_shows_messages_and_timers_in_the_portal_zone_read_only_without_viewer(
    services, portal
):
    """Rendered from the store: when the portal cannot name the viewer (no AUTH_ID here) the
    history still shows, without cancel buttons; times are in the portal's own offset."""
    from app.store import outbox, people
    from app.widgets import WidgetContext
    from app.widgets.automation import render_tab

    due = datetime(2026, 12, 24, 7, 30, tzinfo=UTC)
    with services.session.begin() as s:
        # the portal's clock as sync read it (server.time) and its people's names
        people.put(s, MEMBER, {"5": {"name": "Анна Ли"}}, "+05:00", datetime.now(UTC))
        mirror.put(s, MEMBER, "contact", 3, {"id": 3, "name": "<b>Иван</b>", "lastName": "Ким"})
        timers.start_timer(
            s, MEMBER, kind="metal.deferred", due_at=due, record=("contact", 3), key="c3"
        )
        outbox.record(
            s,
            MEMBER,
            "msg-1",
            rule="metal.lead_refusal_letter",
            entity="contact",
            record_id=3,
            wanted="email",
            channel="sms",
            state=outbox.REFUSED,
            error="no phone",
        )
        audit.record(
            s,
            member_id=MEMBER,
            entity="contact",
            record_id=3,
            rule="metal.contact_created",
            cause="created",
            action_type="UpdateFields",
            action={"entity": "contact", "record_id": 3, "fields": {"assignedById": 5}},
            status="done",
        )
    ctx = WidgetContext(
        MEMBER,
        f"{MEMBER}.bitrix24.ru",
        "automation_contact",
        "CRM_CONTACT_DETAIL_TAB",
        3,
        {},
        "en",
        "",
        services,
    )
    html = str(render_tab(ctx))
    assert "Ким &lt;b&gt;Иван&lt;/b&gt;" in html  # the name, escaped
    assert "metal.contact_created" in html and "The record was created" in html
    assert "assignedById" in html and "= 5" in html
    assert '<td class="channel">sms</td>' in html and "not sent" in html and "no phone" in html
    assert "24.12.2026 12:30" in html and "UTC+05:00" in html  # 07:30 UTC at UTC+5
    assert "metal.deferred" in html and 'class="secondary cancel-timer"' not in html
    assert 'id="no-viewer"' in html
