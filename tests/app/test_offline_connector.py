"""The installer binds the offline events with the app's ``auth_connector`` source key when
``feature.get`` says ``rest_auth_connector`` (api-reference/common/system/feature-get.md;
offline-events.md "How to Avoid Cycles"), and re-binds an install that bound them without
the key. Read back from the emulator's ``event.get`` (it lists an offline binding's
``connector_id``)."""

import pytest

import b24emu.methods.system as emu_system
from app.sync import connector
from tests.app.test_installer_support import (
    install,
    new_session,
    oauth_client,
    reset_counts,
    write_calls,
)

MEMBER = "m-inst"


@pytest.fixture
def client(emulator, redis_url):
    return oauth_client(emulator, redis_url)


def _offline(client) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in client.call("event.get", {}):
        if int(row.get("offline") or 0):
            out.setdefault(row["event"], []).append(row.get("connector_id", "?"))
    return out


def test_offline_events_are_bound_with_the_source_key_when_the_portal_has_it(emulator, client):
    session = new_session()
    install(session, client, ["metal"])
    bound = _offline(client)
    assert "ONCRMLEADADD" in bound
    assert all(keys == [connector.KEY] for keys in bound.values()), bound
    assert connector.active(session, MEMBER) == connector.KEY
    reset_counts(emulator)
    install(session, client, ["metal"])
    assert write_calls(emulator) == {}  # already bound with the key: nothing re-bound


def test_an_install_bound_without_the_key_is_rebound_with_it(emulator, client, monkeypatch):
    session = new_session()
    features = {**emu_system.FEATURES, "rest_auth_connector": "N"}  # a plan below Professional
    monkeypatch.setattr(emu_system, "FEATURES", features)
    install(session, client, ["metal"])
    before = _offline(client)
    assert all(keys == [""] for keys in before.values()), before
    assert connector.active(session, MEMBER) is None  # the rules' client passes no key

    monkeypatch.setattr(emu_system, "FEATURES", {**features, "rest_auth_connector": "Y"})
    reset_counts(emulator)
    install(session, client, ["metal"])  # the next update: the portal has the feature now
    after = _offline(client)
    assert set(after) == set(before)
    assert all(keys == [connector.KEY] for keys in after.values()), after  # one each, keyed
    assert write_calls(emulator) == {"event.unbind": len(before), "event.bind": len(before)}
    assert connector.active(session, MEMBER) == connector.KEY


def test_the_rules_client_passes_the_key_on_writes_and_offline_calls_only():
    sent = []

    class Raw:
        def call(self, method, params=None, **kw):
            sent.append((method, params))

        def batch(self, commands, **kw):
            sent.extend(commands.values())

    client = connector.ConnectorClient(Raw())
    client.call("crm.item.get", {"id": 1})
    client.call("crm.item.update", {"id": 1})
    client.call("event.offline.get", {"clear": 0})
    client.batch({"a": ("crm.item.list", {}), "b": ("im.notify.system.add", {"USER_ID": 1})})
    keyed = [m for m, p in sent if p.get("auth_connector") == connector.KEY]
    assert keyed == ["crm.item.update", "event.offline.get", "im.notify.system.add"]


def test_rows_queued_before_a_rebind_with_the_key_are_drained_after_it(
    emulator, make_services, monkeypatch
):
    """The catch-up remembers that the queue "without a source" was found empty (one plain
    ``event.offline.get`` less per run). A portal that was bound without the key for a
    while (its plan lacked the feature) queued rows there; once the installer re-binds with
    the key, those rows are only reachable without it, so the re-bind must make the next
    catch-up look again — before, the flag was never reset and they stayed for good."""
    from app.installers.run import install_playbooks
    from app.sync import offline
    from app.sync.context import portal_context
    from tests.app._robots_world import build_world

    world = build_world(emulator, make_services, playbooks=("metal",))
    member, redis = world.member_id, world.services.redis
    features = {**emu_system.FEATURES, "rest_auth_connector": "N"}
    monkeypatch.setattr(emu_system, "FEATURES", features)
    install_playbooks(world.services, member, ["metal"])
    ctx = portal_context(world.services, member)
    assert ctx.connector is None
    offline.catch_up(ctx)  # the queue is empty: nothing to remember yet, no key in play
    redis.set(offline.legacy_empty_key(member), b"1")  # found empty at some earlier time
    lead = int(emulator.admin.post("crm/lead", {"source": "webform", "title": "Q"})["id"])
    queued = [r for r in emulator.portal.core.offline if r.client_id]
    assert queued and not any(r.connector_id for r in queued)  # queued without a source

    monkeypatch.setattr(emu_system, "FEATURES", {**features, "rest_auth_connector": "Y"})
    install_playbooks(world.services, member, ["metal"])  # re-bound with the key
    assert not redis.exists(offline.legacy_empty_key(member))
    seen = []
    ctx = portal_context(world.services, member)
    assert ctx.connector == connector.KEY
    offline.catch_up(ctx, process=lambda c, entity, rid, **kw: seen.append((entity, rid)))
    assert ("lead", lead) in seen
    assert not [r for r in emulator.portal.core.offline if r.client_id]  # drained, cleared
    assert redis.exists(offline.legacy_empty_key(member))  # and found empty again
    install_playbooks(world.services, member, ["metal"])  # nothing re-bound: flag kept
    assert redis.exists(offline.legacy_empty_key(member))
