"""Transport over real HTTP: routes, parameter encodings, envelopes and error statuses."""

import json

import requests

ENVELOPE_TIME_KEYS = {
    "start",
    "finish",
    "duration",
    "processing",
    "date_start",
    "date_finish",
    "operating",
}


def test_success_envelope_has_result_and_time(emulator):
    hook = emulator.webhook_url()
    resp = requests.post(hook + "profile")
    body = resp.json()
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    assert body["result"]["ID"] == "1" and body["result"]["ADMIN"] is True
    assert ENVELOPE_TIME_KEYS <= set(body["time"])
    assert body["time"]["date_start"].endswith("+03:00")
    assert body["time"]["finish"] >= body["time"]["start"]


def test_method_names_are_case_insensitive_with_suffix_and_trailing_slash(emulator):
    hook = emulator.webhook_url()
    for path in ("PROFILE", "Profile.json", "profile/", "profile.json/"):
        resp = requests.get(hook + path)
        assert resp.status_code == 200, path
        assert resp.json()["result"]["ID"] == "1"


def test_unknown_method_is_404_without_time(emulator):
    resp = requests.post(emulator.webhook_url() + "crm.nothing.here")
    assert resp.status_code == 404
    assert resp.json() == {
        "error": "ERROR_METHOD_NOT_FOUND",
        "error_description": "Method not found!",
    }


def test_xml_transport_is_refused(emulator):
    resp = requests.post(emulator.webhook_url() + "profile.xml")
    assert resp.status_code == 500
    assert resp.json()["error"] == "INTERNAL_WRONG_TRANSPORT"


def test_webhook_with_wrong_code_or_user_is_invalid_credentials(emulator):
    hook = emulator.webhook_url(user_id=1)
    code = hook.rstrip("/").rsplit("/", 1)[1]
    for url in (f"{emulator.rest_url}1/wrongcode/profile", f"{emulator.rest_url}2/{code}/profile"):
        resp = requests.post(url)
        assert resp.status_code == 401
        assert resp.json() == {
            "error": "INVALID_CREDENTIALS",
            "error_description": "Invalid request credentials",
        }


def test_missing_and_garbage_oauth_tokens(emulator):
    resp = requests.post(emulator.rest_url + "profile")
    assert (resp.status_code, resp.json()["error"]) == (401, "NO_AUTH_FOUND")
    resp = requests.post(emulator.rest_url + "profile", data={"auth": "garbage"})
    assert (resp.status_code, resp.json()["error"]) == (401, "invalid_token")
    assert "time" not in resp.json()


def test_auth_is_accepted_in_query_form_and_json(emulator, installed_app):
    token = installed_app["rest"].token
    url = emulator.rest_url + "app.info"
    assert requests.get(url, params={"auth": token}).json()["result"]["INSTALLED"] is True
    assert requests.post(url, data={"auth": token}).json()["result"]["INSTALLED"] is True
    assert requests.post(url, json={"auth": token}).json()["result"]["INSTALLED"] is True


def test_parameters_from_query_form_and_json_reach_the_method(emulator, installed_app, receiver):
    """event.test echoes its parameters in ONAPPTEST data[QUERY]."""
    rest = installed_app["rest"]
    rest.call("event.bind", {"event": "ONAPPTEST", "handler": receiver.url("test")})
    url = emulator.rest_url + "event.test"
    requests.post(
        url + "?fields[A]=q&keep=query",
        data={"auth": rest.token, "fields[B]": "form", "keep": "form", "list[]": ["x", "y"]},
    )
    requests.post(
        url,
        data=json.dumps({"auth": rest.token, "nested": {"k": [1, 2]}}),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    posts = receiver.wait_for("test", 2)
    first, second = posts[0].form["data"]["QUERY"], posts[1].form["data"]["QUERY"]
    assert first["fields"] == {"B": "form"}  # body keys win over query keys of the same name
    assert first["keep"] == "form" and first["list"] == ["x", "y"]
    assert "auth" not in first
    assert second["nested"] == {"k": ["1", "2"]}


def test_malformed_json_is_an_empty_body(emulator):
    hook = emulator.webhook_url()
    resp = requests.post(
        hook + "feature.get", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 400
    assert resp.json()["error"] == "ERROR_ARGUMENT"


def test_webhook_scopes_give_insufficient_scope(emulator):
    hook = emulator.webhook_url(scopes=["crm"])
    resp = requests.post(hook + "bizproc.event.send", json={"event_token": "x"})
    assert resp.status_code == 403
    assert resp.json()["error"] == "insufficient_scope"


def test_app_context_methods_refuse_webhooks(emulator):
    hook = emulator.webhook_url()
    resp = requests.post(
        hook + "event.bind", json={"event": "ONCRMLEADADD", "handler": "http://app.example.com/h"}
    )
    assert resp.status_code == 403
    assert resp.json() == {
        "error": "WRONG_AUTH_TYPE",
        "error_description": "Current authorization type is denied for this method Application context required",
    }
    resp = requests.post(hook + "app.info")
    assert (resp.status_code, resp.json()["error_description"]) == (
        403,
        "Access denied! Application context required",
    )


def test_basic_methods(emulator):
    hook = emulator.webhook_url(scopes=["crm", "user"])
    assert set(requests.post(hook + "scope").json()["result"]) == {"crm", "user"}
    methods = requests.post(hook + "methods").json()["result"]
    assert "batch" in methods and "bizproc.robot.add" not in methods
    assert requests.post(hook + "feature.get", json={"CODE": "rest_offline_extended"}).json()[
        "result"
    ] == {"value": "Y"}
    assert requests.post(hook + "server.time").json()["result"].endswith("+03:00")


def test_multipart_form_is_parsed_like_urlencoded(emulator, installed_app, receiver):
    rest = installed_app["rest"]
    rest.call("event.bind", {"event": "ONAPPTEST", "handler": receiver.url("mp")})
    resp = requests.post(
        emulator.rest_url + "event.test",
        files={"auth": (None, rest.token), "fields[TITLE]": (None, "Окно"), "ids[]": (None, "7")},
    )
    assert resp.json()["result"] == 1
    assert receiver.wait_for("mp")[0].form["data"]["QUERY"] == {
        "fields": {"TITLE": "Окно"},
        "ids": ["7"],
    }


def test_every_method_module_loads():
    from b24emu.methods import LOAD_ERRORS, load_all

    load_all()
    assert LOAD_ERRORS == {}
