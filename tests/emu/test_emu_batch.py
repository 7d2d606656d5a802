"""batch over JSON and form transports: substitution, halt, limits, nested batch, shapes."""

from urllib.parse import quote

import requests


def test_result_substitution_whole_value_and_embedded(emulator, installed_app, receiver):
    rest = installed_app["rest"]
    rest.call("event.bind", {"event": "ONAPPTEST", "handler": receiver.url("t")})
    result = rest.call(
        "batch",
        {
            "cmd": {
                "me": "profile",
                "feat": "feature.get?CODE=rest_offline_extended",
                "echo": "event.test?whole=$result[feat]&text=id-$result[me][ID]-$result[feat][value]&missing=$result[me][NOPE]",
            }
        },
    )
    assert result["result"]["echo"] == 1
    query = receiver.wait_for("t")[0].form["data"]["QUERY"]
    assert query["whole"] == {"value": "Y"}  # raw array substituted for a whole-value placeholder
    assert query["text"] == "id-1-Y"
    assert query["missing"]["ID"] == "1"  # stops at the last resolvable level


def test_errors_go_per_key_and_outer_status_is_200(emulator):
    hook = emulator.webhook_url(scopes=["crm"])
    resp = requests.post(
        hook + "batch",
        json={
            "halt": 0,
            "cmd": {
                "a": "profile",
                "b": "no.such.method",
                "c": "bizproc.event.send?event_token=x",
                "d": "server.time",
            },
        },
    )
    assert resp.status_code == 200
    body = resp.json()["result"]
    assert set(body["result"]) == {"a", "d"}
    assert body["result_error"]["b"] == {
        "error": "ERROR_METHOD_NOT_FOUND",
        "error_description": "Method not found!",
    }
    assert body["result_error"]["c"] == {"error": "insufficient_scope", "error_description": ""}
    assert body["result_total"] == [] and body["result_next"] == []
    assert set(body["result_time"]["a"]) >= {
        "start",
        "finish",
        "duration",
        "processing",
        "date_start",
        "date_finish",
    }


def test_halt_stops_at_first_error(emulator):
    hook = emulator.webhook_url()
    body = requests.post(
        hook + "batch",
        json={"halt": 1, "cmd": {"a": "profile", "b": "bad.method", "c": "server.time"}},
    ).json()["result"]
    assert set(body["result"]) == {"a"}
    assert set(body["result_error"]) == {"b"}
    assert "c" not in body["result_time"]


def test_more_than_50_commands_fail_per_key(emulator):
    hook = emulator.webhook_url()
    cmd = {f"k{i}": "server.time" for i in range(52)}
    body = requests.post(hook + "batch", json={"cmd": cmd}).json()["result"]
    assert len(body["result"]) == 50
    assert body["result_error"] == {
        "k50": {
            "error": "ERROR_BATCH_LENGTH_EXCEEDED",
            "error_description": "Max batch length exceeded",
        },
        "k51": {
            "error": "ERROR_BATCH_LENGTH_EXCEEDED",
            "error_description": "Max batch length exceeded",
        },
    }


def test_nested_batch_is_refused(emulator):
    hook = emulator.webhook_url()
    body = requests.post(hook + "batch", json={"cmd": {"n": "batch?cmd[x]=profile"}}).json()[
        "result"
    ]
    assert body["result_error"]["n"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"
    assert body["result"] == []


def test_cmd_as_list_gives_list_sections(emulator):
    hook = emulator.webhook_url()
    body = requests.post(hook + "batch", json={"cmd": ["server.time", "profile"]}).json()["result"]
    assert isinstance(body["result"], list) and body["result"][1]["ID"] == "1"


def test_form_transport_with_double_encoded_subqueries(emulator):
    hook = emulator.webhook_url()
    form = (
        "halt=0&cmd%5Bf%5D="
        + quote("feature.get?CODE=" + quote("rest_offline_extended"), safe="")
        + "&cmd%5Bp%5D=profile"
    )
    resp = requests.post(
        hook + "batch", data=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    body = resp.json()["result"]
    assert body["result"]["f"] == {"value": "Y"}
    assert body["result"]["p"]["ID"] == "1"


def test_batch_subcalls_and_http_requests_are_counted_separately(emulator):
    hook = emulator.webhook_url()
    emulator.admin.post("requests/reset")
    requests.post(
        hook + "batch?__order=", json={"cmd": {"a": "profile", "b": "profile", "c": "server.time"}}
    )
    counts = emulator.admin.get("requests")
    assert counts["http"] == {"batch": 1}
    assert counts["calls"]["profile"] == 2 and counts["calls"]["server.time"] == 1
    assert counts["total_http"] == 1
