"""``b24 connect --webhook URL --application-token T --member-id M``: the events the portal's
outgoing webhook really sends (taken from the emulator's delivery log) are accepted by
``POST /events`` and enqueued for that installation; a token that could never match is
refused at connect time and nothing is stored."""

import pytest

from app.store import installations
from app.web import create_app


@pytest.fixture
def world(make_services):
    from b24emu.testing import running_emulator

    with running_emulator() as emu:
        services = make_services(emulator_address=emu.domain)
        emu.hook = emu.webhook_url()  # each webhook_url() call makes a new incoming webhook
        yield emu, services, create_app(services=services)


def _outgoing_webhook(emu):
    """An outgoing webhook for lead creation (handler on a refused port: we replay its body)."""
    made = emu.admin.post(
        "outgoing_webhooks", {"handler": "http://127.0.0.1:9/events", "events": ["ONCRMLEADADD"]}
    )
    return made["application_token"]


def _sent_event(emu):
    """Create a lead through the incoming webhook; return the body the portal POSTed."""
    import requests

    requests.post(emu.hook + "crm.lead.add", json={"fields": {"TITLE": "hook"}})
    emu.wait_deliveries()
    (delivery,) = [d for d in emu.admin.deliveries() if d["name"] == "ONCRMLEADADD"]
    return delivery["body"], dict(delivery["fields"])["auth[member_id]"]


def _connect(app, emu, *extra):
    return app.test_cli_runner().invoke(
        args=["b24", "connect", "--webhook", emu.hook, "--no-install", *extra]
    )


def test_outgoing_webhook_events_are_accepted_for_the_connected_portal(world):
    emu, services, app = world
    token = _outgoing_webhook(emu)
    body, portal_member_id = _sent_event(emu)
    result = _connect(app, emu, "--application-token", token, "--member-id", portal_member_id)
    assert result.exit_code == 0, result.output
    assert f"member_id={portal_member_id}" in result.output

    answer = app.test_client().post(
        "/events", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert answer.status_code == 200
    queued = services.queue("events").get_jobs()
    assert [job.args[0] for job in queued] == [portal_member_id]
    with services.session() as s:
        row = installations.get(s, portal_member_id)
        assert (row.auth_mode, row.webhook_url) == ("webhook", emu.hook)


def test_a_token_without_the_portals_member_id_is_refused_and_nothing_stored(world):
    emu, services, app = world
    token = _outgoing_webhook(emu)
    result = _connect(app, emu, "--application-token", token)
    assert result.exit_code != 0
    assert "--member-id" in result.output
    bad = _connect(app, emu, "--application-token", token, "--member-id", "not-a-member")
    assert bad.exit_code != 0
    with services.session() as s:
        assert installations.get_by_domain(s, emu.domain) is None
