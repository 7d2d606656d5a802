"""event.* management, delivery of emitted events as documented form POSTs, offline queue."""

import requests

from tests.emu._receiver import documented_keys


def _bind(rest, event, url, **extra):
    return rest.raw("event.bind", {"event": event, "handler": url, **extra})


def test_bind_validation_and_duplicates(installed_app, receiver):
    rest = installed_app["rest"]
    assert _bind(rest, "onCrmLeadAdd", receiver.url("ev")).json()["result"] is True
    dup = _bind(rest, "ONCRMLEADADD", receiver.url("ev"))
    assert (dup.status_code, dup.json()) == (
        400,
        {"error": "ERROR_HANDLER_ALREADY_EXIST", "error_description": "Handler already exists!"},
    )
    unknown = _bind(rest, "ONSOMETHINGELSE", receiver.url("ev"))
    assert unknown.json() == {
        "error": "ERROR_EVENT_NOT_FOUND",
        "error_description": "Event not found",
    }
    no_scope = _bind(rest, "ONUSERADD", receiver.url("ev"))  # app has no "user" scope
    assert no_scope.json()["error"] == "ERROR_EVENT_NOT_FOUND"
    assert (
        _bind(rest, "ONCRMDEALADD", "ftp://app.example.com/h").json()["error"]
        == "ERROR_UNSUPPORTED_PROTOCOL"
    )
    assert (
        _bind(rest, "ONCRMDEALADD", "http://localhost/h").json()["error"]
        == "ERROR_WRONG_HANDLER_URL"
    )
    offline_notify = rest.raw("event.bind", {"event": "ONOFFLINEEVENT", "event_type": "offline"})
    assert offline_notify.json()["error"] == "ERROR_ARGUMENT"


def test_get_and_unbind(installed_app, receiver):
    rest = installed_app["rest"]
    _bind(rest, "ONCRMLEADADD", receiver.url("a"))
    rest.call("event.bind", {"event": "ONCRMDEALUPDATE", "event_type": "offline"})
    bound = rest.call("event.get")
    assert {
        "event": "ONCRMLEADADD",
        "handler": receiver.url("a"),
        "auth_type": "0",
        "offline": 0,
    } in bound
    assert {"event": "ONCRMDEALUPDATE", "connector_id": "", "offline": 1} in bound
    assert rest.call(
        "event.unbind", {"event": "ONCRMLEADADD", "handler": receiver.url("other")}
    ) == {"count": 0}
    assert rest.call("event.unbind", {"event": "ONCRMLEADADD", "handler": receiver.url("a")}) == {
        "count": 1
    }
    missing_handler = rest.raw("event.unbind", {"event": "ONCRMLEADADD"})
    assert missing_handler.json()["error"] == "ERROR_ARGUMENT"


def test_user_triggered_event_payload_matches_documented_keys(emulator, installed_app, receiver):
    rest = installed_app["rest"]
    _bind(rest, "ONCRMLEADADD", receiver.url("lead"))
    emulator.admin.post(
        "emit", {"event": "ONCRMLEADADD", "data": {"FIELDS": {"ID": "1000983"}}, "user_id": 3}
    )
    post = receiver.wait_for("lead")[0]
    assert post.content_type == "application/x-www-form-urlencoded"
    assert post.keys == documented_keys("event_ONCRMLEADADD_app.decoded.txt")
    form = post.form
    assert form["event"] == "ONCRMLEADADD" and form["data"] == {"FIELDS": {"ID": "1000983"}}
    assert form["auth"]["user_id"] == "3"
    assert form["auth"]["application_token"] == installed_app["application_token"]
    assert form["auth"]["domain"] == emulator.domain
    assert form["event_handler_id"] == str(emulator.portal.core.bindings[-1].id)
    # the token in the event works for REST calls as that user
    me = requests.post(
        emulator.rest_url + "profile", json={"auth": form["auth"]["access_token"]}
    ).json()
    assert me["result"]["ID"] == "3"


def test_event_without_user_has_no_tokens(emulator, installed_app, receiver):
    _bind(installed_app["rest"], "ONCRMDEALUPDATE", receiver.url("deal"))
    emulator.admin.post("emit", {"event": "ONCRMDEALUPDATE", "data": {"FIELDS": {"ID": "7405"}}})
    post = receiver.wait_for("deal")[0]
    assert post.keys == documented_keys("event_ONCRMDEALUPDATE_no_user.decoded.txt")


def test_auth_type_binding_uses_that_users_token(emulator, installed_app, receiver):
    _bind(installed_app["rest"], "ONCRMDEALADD", receiver.url("d"), auth_type=4)
    emulator.admin.post(
        "emit", {"event": "ONCRMDEALADD", "data": {"FIELDS": {"ID": "1"}}, "user_id": 2}
    )
    assert receiver.wait_for("d")[0].form["auth"]["user_id"] == "4"


def test_event_test_fires_onapptest_with_refresh_token(installed_app, receiver):
    rest = installed_app["rest"]
    _bind(rest, "ONAPPTEST", receiver.url("t"))
    assert rest.call("event.test", {"any": "data"}) == 1
    post = receiver.wait_for("t")[0]
    assert post.keys == documented_keys("event_ONAPPTEST.decoded.txt")


def test_crm_change_through_rest_is_delivered(emulator, installed_app, receiver):
    if emulator.portal.crm is None:
        return
    rest = installed_app["rest"]
    _bind(rest, "ONCRMLEADADD", receiver.url("lead"))
    lead_id = rest.call("crm.lead.add", {"fields": {"TITLE": "Окна"}})
    post = receiver.wait_for("lead")[0]
    assert post.form["data"]["FIELDS"]["ID"] == str(lead_id)
    assert post.form["auth"]["user_id"] == "1"


def test_app_down_drops_online_deliveries_but_offline_queue_fills(
    emulator, installed_app, receiver
):
    rest = installed_app["rest"]
    _bind(rest, "ONCRMLEADADD", receiver.url("lead"))
    rest.call("event.bind", {"event": "ONCRMLEADADD", "event_type": "offline"})
    emulator.admin.post("faults", {"app_down": True})
    emulator.admin.post(
        "emit", {"event": "ONCRMLEADADD", "data": {"FIELDS": {"ID": "5"}}, "user_id": 1}
    )
    emulator.wait_deliveries()
    assert receiver.at("lead") == []
    statuses = [
        d["status"] for d in emulator.admin.get("deliveries", kind="event", name="ONCRMLEADADD")
    ]
    assert statuses == ["dropped"]
    assert [e["EVENT_DATA"] for e in rest.call("event.offline.get")["events"]] == [
        {"FIELDS": {"ID": "5"}}
    ]


def test_failed_delivery_is_not_retried(emulator, installed_app, receiver):
    receiver.respond("lead", 500, "boom")
    _bind(installed_app["rest"], "ONCRMLEADADD", receiver.url("lead"))
    emulator.admin.post(
        "emit", {"event": "ONCRMLEADADD", "data": {"FIELDS": {"ID": "5"}}, "user_id": 1}
    )
    receiver.wait_for("lead")
    emulator.wait_deliveries()
    deliveries = emulator.admin.get("deliveries", kind="event", name="ONCRMLEADADD")
    assert [(d["status"], d["http_status"]) for d in deliveries] == [("failed", 500)]
    assert len(receiver.at("lead")) == 1


def test_outgoing_webhook_auth_has_five_keys(emulator, receiver):
    hook = emulator.admin.post(
        "outgoing_webhooks", {"handler": receiver.url("out"), "events": ["ONCRMDEALDELETE"]}
    )
    emulator.admin.post(
        "emit", {"event": "ONCRMDEALDELETE", "data": {"FIELDS": {"ID": "1050732"}}, "user_id": 1}
    )
    post = receiver.wait_for("out")[0]
    assert post.keys == documented_keys("event_ONCRMDEALDELETE_outgoing_webhook.decoded.txt")
    assert post.form["auth"]["application_token"] == hook["application_token"]


# --- offline queue ----------------------------------------------------------------------------


def _emit(emulator, name, item_id, user_id=1):
    emulator.admin.post(
        "emit", {"event": name, "data": {"FIELDS": {"ID": str(item_id)}}, "user_id": user_id}
    )


def test_offline_rows_dedup_by_message_id(emulator, installed_app):
    rest = installed_app["rest"]
    rest.call("event.bind", {"event": "ONCRMDEALUPDATE", "event_type": "offline"})
    rest.call("event.bind", {"event": "ONCRMDEALADD", "event_type": "offline"})
    for _ in range(5):
        _emit(emulator, "ONCRMDEALUPDATE", 5)
    _emit(emulator, "ONCRMDEALADD", 5)
    _emit(emulator, "ONCRMDEALUPDATE", 6)
    listed = rest.raw("event.offline.list").json()
    assert listed["total"] == 3
    assert [
        (r["EVENT_NAME"], r["EVENT_DATA"]["FIELDS"]["ID"], r["PROCESS_ID"], r["ERROR"])
        for r in listed["result"]
    ] == [
        ("ONCRMDEALUPDATE", "5", "", "0"),
        ("ONCRMDEALADD", "5", "", "0"),
        ("ONCRMDEALUPDATE", "6", "", "0"),
    ]
    assert all(len(r["MESSAGE_ID"]) == 32 for r in listed["result"])
    assert listed["result"][0]["EVENT_ADDITIONAL"] == {"user_id": "1"}


def test_offline_get_reserve_clear_and_error_cycle(emulator, installed_app):
    rest = installed_app["rest"]
    rest.call("event.bind", {"event": "ONCRMDEALUPDATE", "event_type": "offline"})
    for i in range(1, 5):
        _emit(emulator, "ONCRMDEALUPDATE", i)
    got = rest.call("event.offline.get", {"clear": 0, "limit": 3})
    pid = got["process_id"]
    assert len(pid) == 32 and [e["EVENT_DATA"]["FIELDS"]["ID"] for e in got["events"]] == [
        "1",
        "2",
        "3",
    ]
    # a parallel reader gets the disjoint rest
    other = rest.call("event.offline.get", {"clear": 0})
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in other["events"]] == ["4"]
    # re-reading the reservation returns the same rows
    assert (
        rest.call("event.offline.get", {"clear": 0, "process_id": pid})["events"] == got["events"]
    )
    # one row failed, the rest is cleared
    failed = got["events"][1]["MESSAGE_ID"]
    assert rest.call("event.offline.error", {"process_id": pid, "message_id": [failed]}) is True
    assert rest.call("event.offline.clear", {"process_id": pid}) is True
    remaining = rest.raw("event.offline.list").json()["result"]
    assert [
        (r["EVENT_DATA"]["FIELDS"]["ID"], r["ERROR"], r["PROCESS_ID"] != "") for r in remaining
    ] == [("2", "1", False), ("4", "0", True)]
    errors = rest.call("event.offline.get", {"error": 1})
    assert [e["MESSAGE_ID"] for e in errors["events"]] == [failed]


def test_offline_get_with_clear_deletes_and_filter_ops_are_checked(emulator, installed_app):
    rest = installed_app["rest"]
    rest.call("event.bind", {"event": "ONCRMLEADADD", "event_type": "offline"})
    _emit(emulator, "ONCRMLEADADD", 1)
    _emit(emulator, "ONCRMLEADADD", 2)
    first_id = int(rest.raw("event.offline.list").json()["result"][0]["ID"])
    got = rest.call("event.offline.get", {"filter": {">ID": first_id}})
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in got["events"]] == ["2"]
    assert rest.raw("event.offline.list").json()["total"] == 1
    bad = rest.raw("event.offline.get", {"filter": {"!ID": 1}})
    assert (bad.status_code, bad.json()["error"]) == (400, "ERROR_ARGUMENT")
    clear_bad = rest.raw("event.offline.clear", {"process_id": "x", "message_id": ["short"]})
    assert clear_bad.json()["error"] == "ERROR_ARGUMENT"


def test_onofflineevent_notifies_with_refresh_token_and_throttles(
    emulator, installed_app, receiver
):
    rest = installed_app["rest"]
    rest.call("event.bind", {"event": "ONCRMLEADADD", "event_type": "offline"})
    rest.call(
        "event.bind",
        {"event": "ONOFFLINEEVENT", "handler": receiver.url("off"), "options": {"minTimeout": 30}},
    )
    _emit(emulator, "ONCRMLEADADD", 1)
    _emit(emulator, "ONCRMLEADADD", 2)
    emulator.wait_deliveries()
    posts = receiver.wait_for("off")
    assert len(posts) == 1
    assert posts[0].keys == documented_keys("event_ONOFFLINEEVENT.decoded.txt")


def test_events_not_delivered_before_install_finished(emulator, receiver):
    receiver.respond("installer", 200, "<html>no finish here</html>")
    app = emulator.register_app(scopes=["crm"], installer_url=receiver.url("installer"))
    outcome = emulator.admin.post(f"apps/{app['client_id']}/install")
    assert outcome["installed"] is False
    token = receiver.at("installer")[0].form["AUTH_ID"]
    requests.post(
        emulator.rest_url + "event.bind",
        json={"auth": token, "event": "ONCRMLEADADD", "handler": receiver.url("lead")},
    )
    assert (
        requests.post(emulator.rest_url + "app.info", json={"auth": token}).json()["result"][
            "INSTALLED"
        ]
        is False
    )
    _emit(emulator, "ONCRMLEADADD", 1)
    emulator.wait_deliveries()
    assert receiver.at("lead") == []
    emulator.admin.post(f"apps/{app['client_id']}/finish_install")
    _emit(emulator, "ONCRMLEADADD", 2)
    assert receiver.wait_for("lead")[0].form["data"]["FIELDS"]["ID"] == "2"


def test_dynamic_item_event_reaches_generic_and_per_type_bindings(
    emulator, installed_app, receiver
):
    rest = installed_app["rest"]
    _bind(rest, "ONCRMDYNAMICITEMADD", receiver.url("generic"))
    _bind(rest, "ONCRMDYNAMICITEMADD_1036", receiver.url("typed"))
    _bind(rest, "ONCRMDYNAMICITEMADD_1040", receiver.url("other"))
    data = {"FIELDS": {"ID": "22", "ENTITY_TYPE_ID": "1036"}}
    emulator.admin.post("emit", {"event": "ONCRMDYNAMICITEMADD", "data": data, "user_id": 1})
    assert receiver.wait_for("generic")[0].keys == documented_keys(
        "event_ONCRMDYNAMICITEMADD.decoded.txt"
    )
    typed = receiver.wait_for("typed")[0].form
    assert (typed["event"], typed["data"]) == ("ONCRMDYNAMICITEMADD_1036", data)
    emulator.wait_deliveries()
    assert receiver.at("other") == []


def test_non_admin_binds_only_for_himself(emulator, installed_app, receiver):
    tokens = emulator.admin.post(f"apps/{installed_app['client_id']}/tokens", {"user_id": 3})
    url = emulator.rest_url + "event.bind"
    other = requests.post(
        url,
        json={
            "auth": tokens["access_token"],
            "event": "ONCRMLEADADD",
            "handler": receiver.url("x"),
            "auth_type": 1,
        },
    )
    assert (other.status_code, other.json()["error"]) == (403, "ACCESS_DENIED")
    offline = requests.post(
        url, json={"auth": tokens["access_token"], "event": "ONCRMLEADADD", "event_type": "offline"}
    )
    assert offline.status_code == 403
    own = requests.post(
        url,
        json={
            "auth": tokens["access_token"],
            "event": "ONCRMLEADADD",
            "handler": receiver.url("x"),
        },
    )
    assert own.json()["result"] is True
    assert emulator.portal.core.bindings[-1].auth_type == 3


def test_auth_connector_queue_skips_events_caused_by_its_own_calls(emulator, installed_app):
    if emulator.portal.crm is None:
        return
    rest = installed_app["rest"]
    rest.call(
        "event.bind", {"event": "ONCRMLEADADD", "event_type": "offline", "auth_connector": "sync1"}
    )
    rest.call("event.bind", {"event": "ONCRMLEADADD", "event_type": "offline"})
    rest.call("crm.lead.add", {"fields": {"TITLE": "from sync"}, "auth_connector": "sync1"})
    rest.call("crm.lead.add", {"fields": {"TITLE": "from user"}})
    own = rest.call("event.offline.get", {"auth_connector": "sync1", "clear": 0})["events"]
    plain = rest.call("event.offline.get", {"clear": 0})["events"]
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in own] == ["2"]
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in plain] == ["1", "2"]


def test_delivery_delay_keeps_posts_pending(emulator, installed_app, receiver):
    _bind(installed_app["rest"], "ONCRMLEADADD", receiver.url("late"))
    emulator.configure(delivery_delay=30)
    emulator.admin.post(
        "emit", {"event": "ONCRMLEADADD", "data": {"FIELDS": {"ID": "1"}}, "user_id": 1}
    )
    assert [d["status"] for d in emulator.admin.get("deliveries", name="ONCRMLEADADD")] == [
        "pending"
    ]
    assert receiver.at("late") == []


def test_identical_event_after_its_row_was_taken_makes_a_new_row(emulator, installed_app):
    rest = installed_app["rest"]
    rest.call("event.bind", {"event": "ONCRMDEALUPDATE", "event_type": "offline"})
    _emit(emulator, "ONCRMDEALUPDATE", 5)
    taken = rest.call("event.offline.get", {"clear": 0})
    _emit(emulator, "ONCRMDEALUPDATE", 5)  # reserved rows are not refreshed: a new row appears
    _emit(emulator, "ONCRMDEALUPDATE", 5)
    rest.call("event.offline.clear", {"process_id": taken["process_id"]})
    _emit(emulator, "ONCRMDEALUPDATE", 5)
    listed = rest.raw("event.offline.list").json()["result"]
    assert len(listed) == 1 and listed[0]["PROCESS_ID"] == ""
    assert listed[0]["ID"] != taken["events"][0]["ID"]


def test_connector_queue_in_batch_reselect_by_process_id_and_list_reserved(emulator, installed_app):
    """api-reference/events/offline-events.md ("How to Avoid Cycles"): a modifying call with
    the binding's ``auth_connector`` queues nothing in that source's queue — here a ``batch``
    sub-command's own key (the docs are silent on batch; the app does not depend on it).
    event-offline-get.md ``process_id``: "re-select any unprocessed records from the current
    process". event-offline-list.md: ``PROCESS_ID`` is listed and filterable, so rows a lost
    answer reserved can be found."""
    if emulator.portal.crm is None:
        return
    rest = installed_app["rest"]
    key = "app1"
    rest.call(
        "event.bind", {"event": "ONCRMLEADADD", "event_type": "offline", "auth_connector": key}
    )
    cmd = {
        "ours": f"crm.lead.add?fields[TITLE]=ours&auth_connector={key}",
        "theirs": "crm.lead.add?fields[TITLE]=theirs",
    }
    rest.call("batch", {"halt": 0, "cmd": cmd})
    got = rest.call("event.offline.get", {"auth_connector": key, "clear": 0, "limit": 10})
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in got["events"]] == ["2"]  # not "ours"
    assert rest.call("event.offline.get", {"auth_connector": key, "clear": 0})["events"] == []
    again = rest.call(
        "event.offline.get", {"auth_connector": key, "clear": 0, "process_id": got["process_id"]}
    )
    assert again["events"] == got["events"]
    listed = rest.call(
        "event.offline.list", {"auth_connector": key, "filter": {">PROCESS_ID": "", "=ERROR": 0}}
    )
    assert {r["PROCESS_ID"] for r in listed} == {got["process_id"]}
    assert rest.call("event.offline.list", {"filter": {">PROCESS_ID": ""}}) == []  # no source
    rest.call("event.offline.clear", {"auth_connector": key, "process_id": got["process_id"]})
    assert rest.call("event.offline.list", {"auth_connector": key}) == []
