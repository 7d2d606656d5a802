"""A renamed portal (its domain changes): events keep counting, and the new address is
adopted only from the OAuth server's token answer, never from the event.

Before: ``/events`` compared ``auth[domain]`` with the stored domain and answered 403 to
every event of a renamed portal until the next token refresh (up to an hour) happened to
store the new ``client_endpoint``. Now the application token + member_id prove the portal,
the event is accepted, and one ``confirm_portal_address`` job refreshes the token at the
STORED OAuth server (settings/oauth/index.md: the answer's ``client_endpoint`` is where the
portal's REST API is), whose answer the refresher adopts for an allow-listed host only.

The emulator serves on 127.0.0.1:PORT; its OAuth server and the renamed portal answer as
``localhost:PORT`` (the app's EMULATOR_ADDRESS), so the old address is not even callable.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from app.store import installations
from tests.app._events_fakes import PAYLOADS
from tests.app._robots_world import flatten


class Renamed:
    def __init__(self, emu, services, client, app_token):
        self.emu, self.services, self.client, self.app_token = emu, services, client, app_token
        self.member_id = emu.portal.member_id

    def event(self, domain):
        """A lead event as the portal posts it, naming ``domain``."""
        form = json.loads((PAYLOADS / "event_ONCRMLEADADD_app.json").read_text())
        form["auth"].update(
            member_id=self.member_id, application_token=self.app_token, domain=domain
        )
        return self.client.post(
            "/events",
            data=urlencode(flatten(form)),
            content_type="application/x-www-form-urlencoded",
        )

    def stored(self):
        with self.services.session() as s:
            row = installations.get(s, self.member_id)
            return row.domain, row.client_endpoint

    def work(self):
        SimpleWorker(
            [self.services.queue("sync")],
            connection=self.services.redis,
            serializer=JSONSerializer,
        ).work(burst=True)


@pytest.fixture
def world(emulator, make_services):
    from app.web import create_app

    new_host = f"localhost:{emulator.port}"
    emulator.configure(oauth_server_endpoint=f"http://{new_host}/rest/")
    app = emulator.register_app(scopes=["crm", "bizproc", "placement", "user"])
    emulator.admin.post(f"apps/{app['client_id']}/install", {"user_id": 1})
    tokens = emulator.admin.post(f"apps/{app['client_id']}/tokens", {"user_id": 1})
    services = make_services(
        emulator_address=new_host,
        b24_client_id=app["client_id"],
        b24_client_secret=app["client_secret"],
    )
    app_token = emulator.portal.core.apps[app["client_id"]].application_token
    with services.session() as s:
        installations.upsert_verified(
            s,
            emulator.portal.member_id,
            domain=emulator.domain,  # 127.0.0.1:PORT, the name before the rename
            client_endpoint=emulator.rest_url,
            server_endpoint=f"http://{new_host}/rest/",
            auth_mode="oauth",
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            expires_at=datetime.now(UTC) + timedelta(hours=1),
            application_token=app_token,
            status="active",
            playbooks=["metal"],
        )
        s.commit()
    renamed = Renamed(emulator, services, create_app(services=services).test_client(), app_token)
    renamed.client_id = app["client_id"]
    return renamed


def test_after_a_rename_events_count_and_the_new_domain_comes_from_the_oauth_answer(world):
    new_host = f"localhost:{world.emu.port}"
    renamed = world.emu.admin.post("portal/rename", {"domain": new_host})
    assert renamed["client_endpoint"] == f"http://{new_host}/rest/"

    answer = world.event(new_host)
    assert answer.status_code == 200  # was 403 until the next token refresh
    assert world.stored()[0] == world.emu.domain  # nothing adopted from the event itself
    jobs = [j.func_name for j in world.services.queue("sync").get_jobs()]
    assert jobs == ["app.jobs.events.confirm_portal_address"]

    world.work()
    assert world.stored() == (new_host, f"http://{new_host}/rest/")
    # the gateway now calls the portal at its new address
    assert world.services.portal(world.member_id).call("app.info")["INSTALLED"] is True
    assert world.event(new_host).status_code == 200
    assert world.services.queue("sync").count == 0  # same domain now: nothing to confirm


def test_a_made_up_domain_in_a_proved_event_is_never_adopted(world):
    """A holder of the application token naming another host: the event (proved by the
    token) counts, the OAuth answer still names the portal's real address."""
    before = world.stored()
    assert world.event("evil.bitrix24.com").status_code == 200
    world.work()
    assert world.stored() == before
    requests = world.emu.admin.get("requests")
    assert requests["http"].get("oauth/token") == 1  # one verified check, on the stored server
    assert world.event("evil2.bitrix24.com").status_code == 200
    assert world.services.queue("sync").count == 0  # cooldown: no second check


def test_an_update_from_a_renamed_portal_with_a_rotated_token_is_confirmed(world):
    """ONAPPUPDATE rotates the application token, so the event cannot be compared and goes
    to ``confirm_app_event``, which refused it while the stored domain was the old one. It
    now learns the address from the stored OAuth server, then proves the event there."""
    from app.jobs.install import confirm_app_event

    new_host = f"localhost:{world.emu.port}"
    world.emu.configure(rotate_application_token_on_update=True)
    world.emu.admin.post("portal/rename", {"domain": new_host})
    world.emu.admin.post(f"apps/{world.client_id}/update", {})
    app = next(a for a in world.emu.admin.get("apps") if a["client_id"] == world.client_id)
    fresh = world.emu.admin.post(f"apps/{world.client_id}/tokens", {"user_id": 1})
    form = {
        "event": "ONAPPUPDATE",
        "data": {"VERSION": str(app["version"]), "LANGUAGE_ID": "ru"},
        "auth": {
            "domain": new_host,
            "client_endpoint": f"http://{new_host}/rest/",
            "server_endpoint": fresh["server_endpoint"],
            "member_id": world.member_id,
            "application_token": app["application_token"],
            "access_token": fresh["access_token"],
            "refresh_token": fresh["refresh_token"],
            "user_id": "1",
        },
    }
    answer = world.client.post(
        "/app-events", data=urlencode(flatten(form)),
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    assert answer.status_code == 202
    [job] = world.services.queue("events").get_jobs()
    world.services.queue("events").empty()
    assert confirm_app_event(*job.args)["outcome"] == "confirmed"
    with world.services.session() as s:
        row = installations.get(s, world.member_id)
        assert (row.domain, row.application_token) == (new_host, app["application_token"])
    assert [j.func_name for j in world.services.queue("sync").get_jobs()] == [
        "app.jobs.install.install_portal"
    ]
