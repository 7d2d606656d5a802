"""The /_emu/ surface: faults, clock, config, reset, request log, CRM actions, seeding."""

import pytest
import requests


def test_scripted_faults_return_documented_errors(emulator):
    hook = emulator.webhook_url()
    emulator.admin.post(
        "faults",
        {
            "fail_next": [
                {"method": "profile", "status": 503, "count": 2},
                {"method": "server.time", "status": 500},
            ]
        },
    )
    assert [requests.post(hook + "profile").status_code for _ in range(3)] == [503, 503, 200]
    resp = requests.post(hook + "server.time")
    assert (resp.status_code, resp.json()["error"]) == (500, "INTERNAL_SERVER_ERROR")
    assert requests.post(hook + "server.time").status_code == 200


def test_error_rates_apply_only_to_listed_methods(emulator):
    hook = emulator.webhook_url()
    emulator.admin.post("faults", {"error_rates": {"429": 1.0}, "methods": ["profile"]})
    resp = requests.post(hook + "profile")
    assert (resp.status_code, resp.json()["error"]) == (429, "OPERATION_TIME_LIMIT")
    assert requests.post(hook + "server.time").status_code == 200
    emulator.admin.post("faults", {})
    assert requests.post(hook + "profile").status_code == 200


def test_timeout_fault_hangs_the_request(emulator):
    hook = emulator.webhook_url()
    emulator.admin.post(
        "faults", {"fail_next": [{"method": "profile", "status": "timeout"}], "timeout_seconds": 5}
    )
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(hook + "profile", timeout=0.3)


def test_dropped_share_of_deliveries(emulator, installed_app, receiver):
    installed_app["rest"].call(
        "event.bind", {"event": "ONCRMLEADADD", "handler": receiver.url("e")}
    )
    emulator.admin.post("faults", {"drop_deliveries": 1.0})
    emulator.admin.post(
        "emit", {"event": "ONCRMLEADADD", "data": {"FIELDS": {"ID": "1"}}, "user_id": 1}
    )
    emulator.wait_deliveries()
    assert receiver.at("e") == []
    assert emulator.admin.get("deliveries", name="ONCRMLEADADD")[0]["status"] == "dropped"


def test_delivery_log_keeps_the_exact_body(emulator, installed_app, receiver):
    installed_app["rest"].call(
        "event.bind", {"event": "ONCRMLEADADD", "handler": receiver.url("e")}
    )
    emulator.admin.post(
        "emit", {"event": "ONCRMLEADADD", "data": {"FIELDS": {"ID": "9"}}, "user_id": 1}
    )
    post = receiver.wait_for("e")[0]
    emulator.wait_deliveries()
    logged = emulator.admin.get("deliveries", name="ONCRMLEADADD")[0]
    assert logged["body"] == post.body
    assert logged["status"] == "delivered" and logged["http_status"] == 200


def test_config_changes_at_runtime_and_rejects_unknown_keys(emulator):
    assert emulator.configure(limits="enterprise")["rate_burst"] == 250
    resp = requests.post(emulator.base_url + "/_emu/config", json={"no_such_key": 1})
    assert resp.status_code == 400


def test_reset_forgets_state(emulator, installed_app):
    hook = emulator.webhook_url()
    emulator.admin.post("reset", {"keep_webhooks": True})
    assert emulator.portal.core.apps == {}
    assert requests.post(hook + "profile").status_code == 200
    assert installed_app["rest"].raw("profile").status_code == 401


def test_request_log_records_methods_and_auth_kind(emulator):
    hook = emulator.webhook_url()
    emulator.admin.post("requests/reset")
    requests.post(hook + "profile")
    requests.post(hook + "nope")
    log = emulator.admin.get("requests")
    assert log["http"] == {"profile": 1, "nope": 1}
    assert [(e["method"], e["status"], e["auth"]) for e in log["log"]] == [
        ("profile", 200, "webhook"),
        ("nope", 404, "webhook"),
    ]


def test_clock_offset_moves_portal_time(emulator):
    hook = emulator.webhook_url()
    before = requests.post(hook + "profile").json()["time"]["start"]
    emulator.admin.post("clock", {"offset": 86400})
    after = requests.post(hook + "profile").json()["time"]["start"]
    assert after - before > 86000


def test_crm_actions_as_users_fire_events(emulator, installed_app, receiver):
    if emulator.portal.crm is None:
        pytest.skip("CRM store not present")
    rest = installed_app["rest"]
    for name in ("ONCRMLEADADD", "ONCRMLEADUPDATE"):
        rest.call("event.bind", {"event": name, "handler": receiver.url(name)})
    lead = emulator.admin.post(
        "crm/lead",
        {
            "source": "webform",
            "title": "Заявка с сайта",
            "name": "Анна",
            "phone": "+7 912 000-00-00",
            "user_id": 3,
        },
    )
    assert receiver.wait_for("ONCRMLEADADD")[0].form["data"]["FIELDS"]["ID"] == str(lead["id"])
    emulator.admin.post(
        "crm/responsible",
        {"entity_type_id": 1, "id": lead["id"], "assigned_by_id": 4, "user_id": 2},
    )
    update = receiver.wait_for("ONCRMLEADUPDATE")[0]
    assert update.form["auth"]["user_id"] == "2"
    items = emulator.admin.get("crm/items", entity_type_id=1)
    assert [(i["id"], i["assignedById"]) for i in items] == [(lead["id"], 4)]
    emulator.admin.post(
        "crm/comment", {"entity_type_id": 1, "id": lead["id"], "text": "Перезвонить", "user_id": 4}
    )
    assert len(emulator.admin.get("crm/comments")) == 1


def test_seed_creates_records(emulator):
    if emulator.portal.crm is None:
        pytest.skip("CRM store not present")
    made = emulator.admin.post("seed", {"leads": 120, "objects": 30})
    assert made["leads"] == [1, 120, 120]
    objects = emulator.portal.crm.items(made["objects_entity_type_id"])
    assert len(objects) == 30
    assert all(
        isinstance(v, float)
        for o in objects
        for k, v in o.items()
        if k.endswith(("_WIDTH", "_HEIGHT"))
    )
    leads = emulator.portal.crm.items(1)
    assert all(row["fm"][0]["value"].startswith("+7 9") for row in leads)


def test_every_documented_error_code_can_be_injected_with_its_status(emulator):
    from b24emu.faults import ERROR_TABLE

    hook = emulator.webhook_url()
    emulator.admin.post(
        "faults", {"fail_next": [{"method": "profile", "error": code} for code in ERROR_TABLE]}
    )
    for code, (status, description) in ERROR_TABLE.items():
        resp = requests.post(hook + "profile")
        assert (resp.status_code, resp.json()) == (
            status,
            {"error": code, "error_description": description},
        )


def test_expired_webhook_is_invalid_credentials(emulator):
    hook = emulator.admin.post("webhooks", {"user_id": 1, "expires_in": 60})["url"]
    assert requests.post(hook + "profile").status_code == 200
    emulator.admin.post("clock", {"advance": 61})
    assert requests.post(hook + "profile").json()["error"] == "INVALID_CREDENTIALS"


def test_unpaid_app_gets_no_events(emulator, installed_app, receiver):
    installed_app["rest"].call(
        "event.bind", {"event": "ONCRMLEADADD", "handler": receiver.url("e")}
    )
    emulator.configure(payment_required=True)
    emulator.admin.post(
        "emit", {"event": "ONCRMLEADADD", "data": {"FIELDS": {"ID": "1"}}, "user_id": 1}
    )
    emulator.wait_deliveries()
    assert receiver.at("e") == []


def test_latency_fault_delays_every_request(emulator):
    hook = emulator.webhook_url()
    emulator.admin.post("faults", {"latency": 2.0})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(hook + "profile", timeout=0.3)


def test_read_tasks_and_notifications_made_over_rest(emulator):
    if emulator.portal.crm is None:
        pytest.skip("CRM store not present")
    hook = emulator.webhook_url()
    requests.post(hook + "tasks.task.add", json={"fields": {"TITLE": "Замер", "RESPONSIBLE_ID": 5}})
    requests.post(hook + "im.notify.system.add", json={"USER_ID": 3, "MESSAGE": "Новый лид"})
    tasks = emulator.admin.get("crm/tasks")
    assert [t.get("TITLE") or t.get("title") for t in tasks] == ["Замер"]
    notes = emulator.admin.get("crm/notifications", user_id=3)
    assert [n["message"] for n in notes] == ["Новый лид"]
    assert emulator.admin.get("crm/notifications", user_id=4) == []


def test_user_adds_an_activity_and_the_app_hears_it(emulator, installed_app, receiver):
    if emulator.portal.crm is None:
        pytest.skip("CRM store not present")
    installed_app["rest"].call(
        "event.bind", {"event": "ONCRMACTIVITYADD", "handler": receiver.url("act")}
    )
    lead = emulator.admin.post(
        "crm/lead", {"source": "call", "title": "Входящий звонок", "phone": "+7 900 111-22-33"}
    )
    activity = emulator.admin.post(
        "crm/activity",
        {
            "fields": {
                "OWNER_TYPE_ID": 1,
                "OWNER_ID": lead["id"],
                "TYPE_ID": 2,
                "SUBJECT": "Перезвонить",
            },
            "user_id": 4,
        },
    )
    post = receiver.wait_for("act")[0].form
    assert post["data"]["FIELDS"]["ID"] == str(activity["ID"])
    assert post["auth"]["user_id"] == "4"
    assert [a["SUBJECT"] for a in emulator.admin.get("crm/activities")] == ["Перезвонить"]


def test_delivery_log_keeps_only_the_newest(emulator, installed_app, receiver):
    installed_app["rest"].call(
        "event.bind", {"event": "ONCRMLEADADD", "handler": receiver.url("e")}
    )
    emulator.configure(delivery_log_limit=3)
    for i in range(5):
        emulator.admin.post(
            "emit", {"event": "ONCRMLEADADD", "data": {"FIELDS": {"ID": str(i)}}, "user_id": 1}
        )
    emulator.wait_deliveries()
    kept = [d["fields"] for d in emulator.admin.get("deliveries")]
    assert [dict(map(tuple, f))["data[FIELDS][ID]"] for f in kept] == ["2", "3", "4"]


def test_a_renamed_portal_names_its_new_address_everywhere(emulator):
    """/_emu/portal/rename: the member_id and tokens stay; the token answer's
    client_endpoint and the events' auth[domain] name the new address."""
    app = emulator.register_app()
    emulator.admin.post(f"apps/{app['client_id']}/install", {"user_id": 1})
    new = f"localhost:{emulator.port}"
    done = emulator.admin.post("portal/rename", {"domain": new})
    assert done == {"previous": emulator.domain, "domain": new,
                    "client_endpoint": f"http://{new}/rest/"}  # fmt: skip
    tokens = emulator.admin.post(f"apps/{app['client_id']}/tokens", {"user_id": 1})
    assert tokens["client_endpoint"] == f"http://{new}/rest/"
    assert tokens["member_id"] == emulator.portal.member_id
    assert emulator.admin.get("info")["domain"] == new
    bad = requests.post(emulator.base_url + "/_emu/portal/rename", json={"domain": "a/b"})
    assert bad.status_code == 400
