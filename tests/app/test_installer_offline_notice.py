"""The installer binds ONOFFLINEEVENT online to /events whenever it binds offline events, so
the portal tells the inbox at once that offline rows wait (catch-up after downtime starts
immediately); read back from the emulator's ``event.get``."""

import pytest

from tests.app.test_installer_support import (
    BASE,
    install,
    new_session,
    oauth_client,
    reset_counts,
    write_calls,
)


@pytest.fixture
def client(emulator, redis_url):
    return oauth_client(emulator, redis_url)


def _bound(client):
    rows = client.call("event.get", {})
    online = {(b["event"], b["handler"]) for b in rows if not int(b.get("offline") or 0)}
    offline = {b["event"] for b in rows if int(b.get("offline") or 0)}
    return online, offline


def test_offline_notice_is_bound_online_to_the_inbox_once(emulator, client):
    session = new_session()
    install(session, client, ["metal"])
    online, offline = _bound(client)
    assert "ONCRMDEALUPDATE" in offline  # the playbook does use offline events ...
    assert ("ONOFFLINEEVENT", f"{BASE}/events") in online  # ... so the portal's notice comes
    assert "ONOFFLINEEVENT" not in offline  # the portal refuses it as an offline binding
    reset_counts(emulator)
    install(session, client, ["metal"])
    assert write_calls(emulator) == {}  # already bound: re-applying binds nothing again
    online_again, _ = _bound(client)
    assert online_again == online


def test_offline_notice_is_rebound_when_someone_removed_it(emulator, client):
    session = new_session()
    install(session, client, ["kitchens"])
    client.call("event.unbind", {"event": "ONOFFLINEEVENT", "handler": f"{BASE}/events"})
    assert ("ONOFFLINEEVENT", f"{BASE}/events") not in _bound(client)[0]
    reset_counts(emulator)
    install(session, client, ["kitchens"])
    assert write_calls(emulator) == {"event.bind": 1}
    assert ("ONOFFLINEEVENT", f"{BASE}/events") in _bound(client)[0]
