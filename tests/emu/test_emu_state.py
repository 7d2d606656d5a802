"""Saving and loading a portal (``serve --state``) keeps CRM data, apps, tokens and queues."""

import pytest

from b24emu.apps import register_app
from b24emu.auth import create_webhook
from b24emu.core_state import Binding
from b24emu.portal_factory import load_state, new_portal, save_state


def test_round_trip_keeps_everything_but_the_runtime(tmp_path):
    portal = new_portal()
    if portal.crm is None:
        pytest.skip("CRM store not present")
    portal.crm.bulk_seed(1, [{"title": f"Лид {i}"} for i in range(10)])
    app = register_app(portal, scopes=["crm"])
    hook = create_webhook(portal, 2, ["crm"])
    portal.clock.offset = 42.0
    path = tmp_path / "portal.pkl"
    save_state(portal, str(path))
    loaded = load_state(str(path))
    assert [r["title"] for r in loaded.crm.items(1)] == [f"Лид {i}" for i in range(10)]
    assert loaded.core.apps[app.client_id].client_secret == app.client_secret
    assert loaded.core.webhooks[hook.code].user_id == 2
    assert loaded.clock.offset == 42.0 and loaded.member_id == portal.member_id
    # the hooks are wired again: a CRM write on the loaded portal lands in an offline queue
    loaded_app = loaded.core.apps[app.client_id]
    loaded_app.present = loaded_app.installed = True
    loaded.core.bindings.append(
        Binding(id=99, client_id=app.client_id, event="ONCRMLEADADD", handler=None, offline=True)
    )
    row = loaded.crm.add_item(1, {"title": "после рестарта"}, 1)
    assert [(r.event_name, r.event_data) for r in loaded.core.offline] == [
        ("ONCRMLEADADD", {"FIELDS": {"ID": str(row["id"])}})
    ]
