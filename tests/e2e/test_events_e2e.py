"""End to end: emulator → POST /events (our Flask app over HTTP) → Redis/RQ → worker →
gateway → emulator. Real Redis (``TEST_REDIS_URL``), a real RQ SimpleWorker in burst mode,
the app's migrated SQLite store, an OAuth app installed on the emulator.

A test-only playbook is registered in the dispatch table: it notifies user 1 about each new
lead and writes the lead's title back (so the echo of our own write comes back as an event).
"""

from __future__ import annotations

import pytest
import requests

from app.rules import dispatch
from app.rules.actions import Notify, UpdateFields
from app.rules.model import Rule, on_created, on_field_changed
from tests.app._robots_world import install_app
from tests.support.live_app import LiveApp
from tests.support.workers import work_until_idle

pytestmark = pytest.mark.e2e

PLAYBOOK = "e2e_events"
EVENTS = ("ONCRMLEADADD", "ONCRMLEADUPDATE")


def _welcome(ctx):
    rid = ctx.change.record_id
    return [
        Notify((1,), f"new lead {rid}"),
        UpdateFields("lead", rid, {"title": f"{ctx.record.get('title')} [seen]"}),
    ]


def _comment_changed(ctx):
    return [Notify((1,), f"comments of {ctx.change.record_id}: {ctx.record.get('comments')}")]


RULES = [
    Rule("welcome", "lead", on_created(), _welcome),
    Rule("comments", "lead", on_field_changed("comments"), _comment_changed),
]


@pytest.fixture
def world(tmp_path, redis_url, redis_conn):
    yield from events_world(tmp_path, redis_url)


def events_world(tmp_path, redis_url, *, connector=False):
    """Generator for a fixture: the emulator, our app over HTTP installed through OAuth with
    the test playbook, its lead events bound online and offline; yields a :class:`World`.

    ``connector=True`` binds the offline events as the installer does on a portal that has
    ``rest_auth_connector`` (api-reference/events/offline-events.md "How to Avoid Cycles":
    bound with our source key, so our own writes queue no rows) and records the bindings
    the way ``app.installers.plan_app.plan_events`` does."""
    import app.services as services_module
    from app.services import Services
    from app.store import schema_objects
    from app.store.migrate import upgrade
    from app.sync import connector as source_key
    from app.sync import offline
    from app.web import create_app
    from b24emu.testing import running_emulator
    from config.settings import Settings

    db_url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(db_url)
    dispatch.register(PLAYBOOK, RULES)
    with running_emulator() as emu:
        registered = emu.register_app(scopes=["crm", "im", "task", "user_brief"])
        services = Services(
            Settings(
                database_url=db_url,
                redis_url=redis_url,
                var_dir=str(tmp_path / "var"),
                emulator_address=emu.domain,
                b24_client_id=registered["client_id"],
                b24_client_secret=registered["client_secret"],
            )
        )
        previous = services_module.use(services)
        server = LiveApp(create_app(services=services))
        tokens = install_app(emu, services, registered, [PLAYBOOK])
        client = services.portal(emu.portal.member_id)
        known = []
        for event in EVENTS:
            client.call("event.bind", {"event": event, "handler": server.url + "/events"})
            offline_binding = {"event": event, "event_type": "offline"}
            if connector:
                offline_binding["auth_connector"] = source_key.KEY
                meta = {"handler": "", "offline": True, "connector": source_key.KEY}
                known.append(
                    schema_objects.Known("event", f"{event}|offline", None, event, True, meta)
                )
            client.call("event.bind", offline_binding)
        client.call("event.bind", {"event": "ONOFFLINEEVENT", "handler": server.url + "/events"})
        if connector:
            with services.session() as s:
                schema_objects.record(s, emu.portal.member_id, known)
                s.commit()
            # a fresh portal: no rows queued before the source key was bound
            services.redis.set(offline.legacy_empty_key(emu.portal.member_id), b"1")
        try:
            yield World(emu, services, server, tokens["access_token"])
        finally:
            server.stop()
            services_module.use(previous)
            services.close()
            dispatch.unregister(PLAYBOOK)


class World:
    def __init__(self, emu, services, server, token):
        self.emu, self.services, self.server, self.token = emu, services, server, token
        self.member_id = emu.portal.member_id

    def rest(self, method, params):
        """A portal user (user 1) working in the CRM: their changes emit events."""
        body = requests.post(
            self.emu.rest_url + method, json={**params, "auth": self.token}, timeout=30
        ).json()
        assert "error" not in body, body
        return body["result"]

    def settle(self):
        """Wait for the portal's event POSTs, then run the worker until the queues are empty."""
        self.emu.wait_deliveries(10)
        worker = work_until_idle(self.services)  # also runs drains handed back meanwhile
        self.emu.wait_deliveries(10)
        return worker

    def queued(self):
        return sum(self.services.queue(n).count for n in ("events", "sync"))

    def notes(self):
        return [
            n["message"] if isinstance(n, dict) else n for n in self.emu.portal.crm.notifications
        ]

    def deliveries(self, name=None):
        return [
            d
            for d in self.emu.portal.core.deliveries
            if d.kind == "event" and (name is None or d.name == name)
        ]

    def lead(self, lead_id):
        return self.rest("crm.item.get", {"entityTypeId": 1, "id": lead_id})["item"]


def _messages(world):
    out = []
    for n in world.emu.portal.crm.notifications:
        out.append(n.get("message") if isinstance(n, dict) else getattr(n, "message", n))
    return out


def test_new_lead_reaches_the_rule_once_replays_and_echo_change_nothing(world):
    lead_id = world.rest("crm.item.add", {"entityTypeId": 1, "fields": {"title": "Roof"}})["item"][
        "id"
    ]
    world.settle()
    assert _messages(world) == [f"new lead {lead_id}"]
    assert world.lead(lead_id)["title"] == "Roof [seen]"
    # our write came back as ONCRMLEADUPDATE and was processed without new actions
    assert [d.status for d in world.deliveries("ONCRMLEADUPDATE")] == ["delivered"]
    settled_time = world.lead(lead_id)["updatedTime"]

    for delivery in world.deliveries():  # three replays of every event the portal sent
        for _ in range(3):
            resp = requests.post(
                world.server.url + "/events",
                data=delivery.body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=10,
            )
            assert resp.status_code == 200
    world.settle()
    assert _messages(world) == [f"new lead {lead_id}"]
    assert world.lead(lead_id)["updatedTime"] == settled_time
    assert len(world.deliveries("ONCRMLEADUPDATE")) == 1  # no write of ours looped


def test_a_burst_of_200_updates_is_processed_as_a_handful_of_jobs(world):
    lead_id = world.rest("crm.item.add", {"entityTypeId": 1, "fields": {"title": "Burst"}})["item"][
        "id"
    ]
    world.settle()
    for n in range(200):
        world.rest(
            "crm.item.update", {"entityTypeId": 1, "id": lead_id, "fields": {"comments": f"v{n}"}}
        )
    world.emu.wait_deliveries(30)
    assert len(world.deliveries("ONCRMLEADUPDATE")) >= 200
    jobs = world.queued()
    assert 1 <= jobs <= 5
    world.settle()
    comment_notes = [m for m in _messages(world) if m.startswith("comments of")]
    assert comment_notes[-1] == f"comments of {lead_id}: v199"
    assert len(comment_notes) <= jobs


def _use(services):
    from app import services as root

    return root.use(services)


def test_events_missed_while_the_app_was_down_are_recovered_from_the_offline_queue(world):
    world.emu.admin.post("faults", {"app_down": True})
    missed = [
        world.rest("crm.item.add", {"entityTypeId": 1, "fields": {"title": f"while away {n}"}})[
            "item"
        ]["id"]
        for n in range(3)
    ]
    world.emu.wait_deliveries(10)
    assert world.queued() == 0 and _messages(world) == []
    assert {d.status for d in world.deliveries()} <= {"dropped"}

    world.emu.admin.post("faults", {"app_down": False})
    back = world.rest("crm.item.add", {"entityTypeId": 1, "fields": {"title": "after"}})["item"][
        "id"
    ]
    world.settle()
    # the drain of "after" checked the offline queue inside its read batch
    # (app.sync.ridealong): the rows of the three missed leads are covered by no online
    # event, so they were handed to the standalone catch-up, which ran in the same settle
    assert sorted(_messages(world)) == sorted(f"new lead {i}" for i in [*missed, back])
    assert all(world.lead(i)["title"].endswith("[seen]") for i in missed)
    remaining = world.rest("event.offline.list", {})
    assert [r for r in remaining if r.get("ERROR") == "1"] == []
    assert {r["PROCESS_ID"] for r in remaining} <= {""}  # nothing left reserved
    # the app's start-up (and then the clock) drains whatever is left: the rows of our own
    # writes' echoes, taken online — cleared without reads
    from app.jobs.events import catch_up_offline, enqueue_safety_nets
    from app.sync import dirty

    assert ("catch_up_offline", world.member_id) in enqueue_safety_nets(world.services, force=True)
    world.settle()
    assert sorted(_messages(world)) == sorted(f"new lead {i}" for i in [*missed, back])
    previous = _use(world.services)
    try:
        assert catch_up_offline(world.member_id)["rows"] == 0
    finally:
        _use(previous)
    assert not world.services.redis.exists(dirty.announced_key(world.member_id))
