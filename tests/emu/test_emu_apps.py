"""App lifecycle: installer frame + installFinish, ONAPPINSTALL/UPDATE/UNINSTALL, app storage."""

import requests

from tests.emu._receiver import documented_keys

FRAME_BODY_KEYS = [
    "AUTH_ID",
    "AUTH_EXPIRES",
    "REFRESH_ID",
    "SERVER_ENDPOINT",
    "APPLICATION_TOKEN",
    "APPLICATION_SCOPE",
    "member_id",
    "status",
    "PLACEMENT",
    "PLACEMENT_OPTIONS",
]


def test_ui_installer_frame_then_install_finish(emulator, receiver):
    """The installer binds ONAPPINSTALL with the frame token and answers with installFinish."""
    app = emulator.register_app(
        scopes=["crm", "placement"], installer_url=receiver.url("install.php")
    )

    def installer(request):
        token = request.form["AUTH_ID"]
        requests.post(
            emulator.rest_url + "event.bind",
            json={"auth": token, "event": "ONAPPINSTALL", "handler": receiver.url("onapp")},
        )

    receiver.on("install.php", installer)
    receiver.respond(
        "install.php", 200, "<script>BX24.init(function(){ BX24.installFinish(); });</script>"
    )
    outcome = emulator.admin.post(f"apps/{app['client_id']}/install", {"user_id": 1})
    assert outcome["installed"] is True
    frame = receiver.at("install.php")[0]
    assert set(frame.query) == {"DOMAIN", "PROTOCOL", "LANG", "APP_SID"}
    assert frame.query["DOMAIN"] == emulator.domain and len(frame.query["APP_SID"]) == 32
    assert frame.keys == FRAME_BODY_KEYS
    assert frame.form["PLACEMENT"] == "DEFAULT"
    install_event = receiver.wait_for("onapp")[0]
    assert install_event.keys == documented_keys("event_ONAPPINSTALL.decoded.txt")
    assert install_event.form["auth"]["application_token"] == frame.form["APPLICATION_TOKEN"]
    assert install_event.form["data"] == {
        "VERSION": "1",
        "ACTIVE": "Y",
        "INSTALLED": "Y",
        "LANGUAGE_ID": "en",
    }


def test_application_token_is_md5_of_documented_parts(emulator, installed_app):
    import hashlib

    portal = emulator.portal
    app = portal.core.apps[installed_app["client_id"]]
    expected = hashlib.md5(
        f"{portal.member_id}|{app.id}|{app.client_secret}|{portal.core.config.shared_key}".encode(),
        usedforsecurity=False,
    ).hexdigest()
    assert installed_app["application_token"] == expected


def test_api_only_app_gets_onappinstall_at_install_url(installed_app, receiver):
    post = receiver.wait_for("install")[0]
    assert post.keys == documented_keys("event_ONAPPINSTALL.decoded.txt")
    assert post.form["auth"]["refresh_token"]


def test_update_wipes_robots_and_fires_onappupdate_with_new_token(
    emulator, installed_app, receiver
):
    rest = installed_app["rest"]
    rest.call("event.bind", {"event": "ONAPPUPDATE", "handler": receiver.url("upd")})
    rest.call("bizproc.robot.add", {"CODE": "r1", "HANDLER": receiver.url("robot"), "NAME": "R1"})
    emulator.configure(rotate_application_token_on_update=True)
    result = emulator.admin.post(f"apps/{installed_app['client_id']}/update", {"version": 2})
    assert result["application_token"] != installed_app["application_token"]
    post = receiver.wait_for("upd")[0]
    assert post.keys == documented_keys("event_ONAPPUPDATE.decoded.txt")
    assert post.form["data"] == {"VERSION": "2", "PREVIOUS_VERSION": "1", "LANGUAGE_ID": "en"}
    assert post.form["auth"]["application_token"] == result["application_token"]
    assert rest.call("bizproc.robot.list") == []
    assert rest.call("app.info")["VERSION"] == 2


def test_uninstall_sends_tokenless_event_and_cleans_up(emulator, installed_app, receiver):
    rest = installed_app["rest"]
    rest.call("event.bind", {"event": "ONAPPUNINSTALL", "handler": receiver.url("bye")})
    rest.call(
        "placement.bind", {"PLACEMENT": "CRM_DEAL_DETAIL_TAB", "HANDLER": receiver.url("tab")}
    )
    rest.call("bizproc.robot.add", {"CODE": "r1", "HANDLER": receiver.url("robot"), "NAME": "R1"})
    rest.call("app.option.set", {"options": {"a": "1"}})
    emulator.admin.post(f"apps/{installed_app['client_id']}/uninstall", {"clean": True})
    post = receiver.wait_for("bye")[0]
    assert post.keys == documented_keys("event_ONAPPUNINSTALL.decoded.txt")
    assert post.form["data"] == {"LANGUAGE_ID": "en", "CLEAN": "1"}
    core = emulator.portal.core
    assert [b for b in core.bindings if b.client_id == installed_app["client_id"]] == []
    assert core.placements == [] and core.robots == {}
    assert core.apps[installed_app["client_id"]].options == {}


def test_app_options_round_trip(installed_app):
    rest = installed_app["rest"]
    assert rest.call("app.option.get") == []
    assert rest.call("app.option.set", {"options": {"mode": "full", "list": ["a", "b"]}}) is True
    assert rest.call("app.option.get", {"option": "mode"}) == "full"
    assert rest.call("app.option.get") == {"mode": "full", "list": ["a", "b"]}
    assert rest.raw("app.option.set", {"options": {}}).json()["error"] == "ERROR_ARGUMENT"


def test_open_placement_posts_frame_with_options(emulator, installed_app, receiver):
    rest = installed_app["rest"]
    rest.call(
        "placement.bind",
        {"PLACEMENT": "CRM_DEAL_DETAIL_TAB", "HANDLER": receiver.url("tab"), "TITLE": "Замеры"},
    )
    emulator.admin.post(
        f"apps/{installed_app['client_id']}/open",
        {"placement": "CRM_DEAL_DETAIL_TAB", "options": {"ID": "8061"}, "user_id": 3},
    )
    frame = receiver.wait_for("tab")[0]
    assert frame.form["PLACEMENT"] == "CRM_DEAL_DETAIL_TAB"
    assert frame.form["PLACEMENT_OPTIONS"] == '{"ID": "8061"}'
    me = requests.post(emulator.rest_url + "profile", json={"auth": frame.form["AUTH_ID"]}).json()
    assert me["result"]["ID"] == "3"


def test_placement_methods(installed_app, receiver):
    rest = installed_app["rest"]
    missing = rest.raw("placement.bind", {"HANDLER": receiver.url("x")})
    assert missing.json() == {
        "error": "ERROR_ARGUMENT",
        "error_description": "Argument 'PLACEMENT' is null or empty",
        "argument": "PLACEMENT",
    }
    assert (
        rest.raw("placement.bind", {"PLACEMENT": "NOPE", "HANDLER": receiver.url("x")}).json()[
            "error"
        ]
        == "ERROR_PLACEMENT_NOT_FOUND"
    )
    assert (
        rest.call(
            "placement.bind",
            {"PLACEMENT": "CRM_DYNAMIC_183_DETAIL_TAB", "HANDLER": receiver.url("x"), "TITLE": "T"},
        )
        is True
    )
    assert (
        rest.call("placement.bind", {"PLACEMENT": "REST_APP_URI", "HANDLER": receiver.url("y")})
        is True
    )
    assert (
        rest.raw(
            "placement.bind", {"PLACEMENT": "REST_APP_URI", "HANDLER": receiver.url("z")}
        ).json()["error"]
        == "ERROR_PLACEMENT_MAX_COUNT"
    )
    got = rest.call("placement.get")
    assert [(p["placement"], p["handler"], p["title"]) for p in got] == [
        ("CRM_DYNAMIC_183_DETAIL_TAB", receiver.url("x"), "T"),
        ("REST_APP_URI", receiver.url("y"), ""),
    ]
    assert "CRM_DEAL_DETAIL_TAB" in rest.call("placement.list")
    assert rest.call("placement.unbind", {"PLACEMENT": "CRM_DYNAMIC_183_DETAIL_TAB"}) == {
        "count": 1
    }


def test_reinstall_does_not_duplicate_the_installer_binding(emulator, installed_app, receiver):
    emulator.admin.post(f"apps/{installed_app['client_id']}/install")
    assert len(receiver.wait_for("install", 2)) == 2
    emulator.wait_deliveries()
    assert len(receiver.at("install")) == 2  # one ONAPPINSTALL per install, not per binding
