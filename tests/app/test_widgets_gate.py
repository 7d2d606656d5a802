"""POST /widgets/<code>: who may open a widget, and what every answer looks like."""

from __future__ import annotations

import hashlib

import pytest

from app.store import mirror
from app.web import create_app
from tests.app._widgets_world import APP_TOKEN, DOMAIN, MEMBER, install, open_widget

LEAD_TAB = "CRM_LEAD_DETAIL_TAB"
CLIENT_ID = "local.5e1c0ffee0ab12.00000042"


@pytest.fixture
def client(services):
    install(services, playbooks=("metal",))
    return create_app(services=services).test_client()


def test_correct_application_token_opens_the_page_with_frame_headers(client):
    resp = open_widget(client, "lead_object", placement=LEAD_TAB, options={"ID": "7"})
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    assert "X-Frame-Options" not in resp.headers
    assert resp.headers["Content-Security-Policy"] == f"frame-ancestors https://{DOMAIN}"
    assert resp.headers["Cache-Control"] == "no-store"


def test_http_portal_may_frame_it_too(client):
    resp = open_widget(
        client, "lead_object", placement=LEAD_TAB, options={"ID": "7"}, query={"PROTOCOL": "0"}
    )
    assert resp.headers["Content-Security-Policy"] == (
        f"frame-ancestors https://{DOMAIN} http://{DOMAIN}"
    )


def test_wrong_application_token_is_401_and_readable(client):
    resp = open_widget(
        client, "lead_object", placement=LEAD_TAB, options={"ID": "7"}, APPLICATION_TOKEN="x" * 32
    )
    assert resp.status_code == 401
    page = resp.get_data(as_text=True)
    assert "Вход не подтверждён" in page and "Traceback" not in page
    assert "x" * 32 not in page


def test_unknown_or_inactive_member_is_403(client, services):
    resp = open_widget(
        client, "lead_object", placement=LEAD_TAB, options={"ID": "7"}, member_id="nobody"
    )
    assert resp.status_code == 403
    assert "Приложение не установлено" in resp.get_data(as_text=True)
    install(services, member="gone-member", status="uninstalled")
    resp = open_widget(
        client, "lead_object", placement=LEAD_TAB, options={"ID": "7"}, member_id="gone-member"
    )
    assert resp.status_code == 403


def test_domain_other_than_the_stored_one_is_403(client):
    resp = open_widget(
        client, "lead_object", placement=LEAD_TAB, options={"ID": "7"}, domain="evil.bitrix24.ru"
    )
    assert resp.status_code == 403
    # the page is not framable by the claimed (foreign) portal
    assert "evil" not in resp.headers["Content-Security-Policy"]


def test_widget_of_a_playbook_not_installed_is_404(client):
    resp = open_widget(client, "measurement", placement=LEAD_TAB, options={"ID": "7"})
    assert resp.status_code == 404
    assert "не входит в установленные" in resp.get_data(as_text=True)


def test_unknown_code_is_404(client):
    for code in ("nope", "Lead_Object", "../install"):
        resp = open_widget(client, code, placement=LEAD_TAB, options={"ID": "7"})
        assert resp.status_code in (404,), code


@pytest.mark.parametrize(
    "options",
    ['{"ID": "7"', '"7"', "[1]", '{"ID": "abc"}', '{"ID": "-3"}', '{"ID": "0"}', "{}"],
)
def test_malformed_placement_options_are_a_readable_400(client, options):
    resp = open_widget(client, "lead_object", placement=LEAD_TAB, options=options)
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "PLACEMENT_OPTIONS" in page or "ID" in page
    assert "Traceback" not in page


def test_a_widget_opened_in_another_placement_is_400(client):
    resp = open_widget(client, "lead_object", placement="CRM_DEAL_DETAIL_TAB", options={"ID": "7"})
    assert resp.status_code == 400


def test_errors_follow_the_viewers_language(client):
    resp = open_widget(
        client,
        "lead_object",
        placement=LEAD_TAB,
        options={"ID": "7"},
        APPLICATION_TOKEN="y" * 32,
        query={"LANG": "en"},
    )
    assert resp.status_code == 401
    assert "Not signed in" in resp.get_data(as_text=True)


def test_lead_title_with_markup_renders_as_text(client, services):
    with services.session.begin() as s:
        mirror.put(s, MEMBER, "lead", 7, {"title": "x", "UF_CRM_MT_OBJECT": 31})
        mirror.put(
            s,
            MEMBER,
            "metal.object",
            31,
            {"title": "<script>alert(1)</script>", "UF_CRM_OBJ_SITE": '"><img src=x onerror=1>'},
        )
    resp = open_widget(client, "lead_object", placement=LEAD_TAB, options={"ID": "7"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=1&gt;" in page


def test_a_failing_page_is_a_readable_500_without_the_trace(client, monkeypatch):
    import app.widgets as widgets

    widgets.renderer("lead_object")  # modules loaded

    def broken(ctx):
        raise RuntimeError("boom in the renderer")

    monkeypatch.setitem(widgets._REGISTRY, "lead_object", broken)
    resp = open_widget(client, "lead_object", placement=LEAD_TAB, options={"ID": "7"})
    assert resp.status_code == 500
    page = resp.get_data(as_text=True)
    assert "Не удалось показать виджет" in page
    assert "boom" not in page and "Traceback" not in page
    assert resp.headers["Content-Security-Policy"] == f"frame-ancestors https://{DOMAIN}"


# --- AUTH_ID verified on the portal (no APPLICATION_TOKEN posted) ------------------------------


@pytest.fixture
def emu():
    from b24emu.testing import running_emulator

    with running_emulator() as handle:
        yield handle


@pytest.fixture
def emu_world(make_services, emu):
    svc = make_services(emulator_address=emu.domain, b24_client_id=CLIENT_ID)
    app = emu.register_app(client_id=CLIENT_ID)
    emu.admin.post(f"apps/{app['client_id']}/install", {})
    tokens = emu.admin.post(f"apps/{app['client_id']}/tokens", {})
    install(svc, member=tokens["member_id"], domain=emu.domain, proved_auth_id=None)
    return svc, create_app(services=svc).test_client(), tokens


def _app_info_calls(emu) -> int:
    return emu.admin.get("requests")["http"].get("app.info", 0)


def test_auth_id_is_verified_once_then_cached_by_its_hash(emu, emu_world):
    svc, client, tokens = emu_world
    for _ in range(3):
        resp = open_widget(
            client,
            "lead_object",
            placement=LEAD_TAB,
            options={"ID": "7"},
            domain=emu.domain,
            member_id=tokens["member_id"],
            APPLICATION_TOKEN=None,
            AUTH_ID=tokens["access_token"],
            AUTH_EXPIRES="3600",
        )
        assert resp.status_code == 200
    assert _app_info_calls(emu) == 1
    keys = [k.decode() for k in svc.redis.keys("b24:widget:auth:*")]
    assert len(keys) == 1 and tokens["access_token"] not in keys[0]
    digest = hashlib.sha256(f"{tokens['member_id']}\0{tokens['access_token']}".encode())
    assert keys[0].endswith(digest.hexdigest())
    assert 0 < svc.redis.ttl(keys[0]) <= 600


def test_cache_lasts_no_longer_than_the_token(emu, emu_world):
    svc, client, tokens = emu_world
    resp = open_widget(
        client,
        "lead_object",
        placement=LEAD_TAB,
        options={"ID": "7"},
        domain=emu.domain,
        member_id=tokens["member_id"],
        APPLICATION_TOKEN="",
        AUTH_ID=tokens["access_token"],
        AUTH_EXPIRES="45",
    )
    assert resp.status_code == 200
    (key,) = svc.redis.keys("b24:widget:auth:*")
    assert 0 < svc.redis.ttl(key) <= 45


def test_forged_auth_id_is_401_and_not_cached(emu, emu_world):
    svc, client, tokens = emu_world
    for _ in range(2):
        resp = open_widget(
            client,
            "lead_object",
            placement=LEAD_TAB,
            options={"ID": "7"},
            domain=emu.domain,
            member_id=tokens["member_id"],
            APPLICATION_TOKEN=None,
            AUTH_ID="f" * 64,
        )
        assert resp.status_code == 401
    assert _app_info_calls(emu) == 1  # the refusal is cached briefly, never the acceptance
    (key,) = svc.redis.keys("b24:widget:auth:*")
    assert svc.redis.get(key) == b"denied" and 0 < svc.redis.ttl(key) <= 30


def test_auth_id_issued_to_another_app_is_refused(emu, emu_world):
    """Issue #20 way in 4: an AUTH_ID another app on the same portal received passes
    ``app.info`` — but its CODE is not ours (api-reference/common/system/app-info.md), so
    the widget (and the booking/merge bearer it hands out) stays closed."""
    svc, client, tokens = emu_world
    other = emu.register_app()
    emu.admin.post(f"apps/{other['client_id']}/install", {})
    foreign = emu.admin.post(f"apps/{other['client_id']}/tokens", {})
    resp = open_widget(
        client,
        "lead_object",
        placement=LEAD_TAB,
        options={"ID": "7"},
        domain=emu.domain,
        member_id=tokens["member_id"],
        APPLICATION_TOKEN=None,
        AUTH_ID=foreign["access_token"],
    )
    assert resp.status_code == 401
    assert "bearer" not in resp.get_data(as_text=True).lower()


def test_application_token_with_a_forged_auth_id_is_401_and_renders_nothing(emu, emu_world):
    """Every portal user's browser holds APPLICATION_TOKEN (§3.2: it is in every frame
    form), so the token with a junk AUTH_ID must not open a page: the AUTH_ID is proved
    with app.info like any other open."""
    svc, client, tokens = emu_world
    with svc.session.begin() as s:
        mirror.put(s, tokens["member_id"], "lead", 7, {"title": "Секретный лид"})
    resp = open_widget(
        client,
        "lead_object",
        placement=LEAD_TAB,
        options={"ID": "7"},
        domain=emu.domain,
        member_id=tokens["member_id"],
        AUTH_ID="f" * 64,
    )
    assert resp.status_code == 401
    page = resp.get_data(as_text=True)
    assert "Секретный лид" not in page and "bearer" not in page.lower()
    assert _app_info_calls(emu) == 1
    no_auth_id = open_widget(
        client,
        "lead_object",
        placement=LEAD_TAB,
        options={"ID": "7"},
        domain=emu.domain,
        member_id=tokens["member_id"],
        AUTH_ID=None,
    )
    assert no_auth_id.status_code == 401


def test_application_token_and_a_real_auth_id_are_proved_once_then_cached(emu, emu_world):
    _, client, tokens = emu_world
    for _ in range(3):
        resp = open_widget(
            client,
            "lead_object",
            placement=LEAD_TAB,
            options={"ID": "7"},
            domain=emu.domain,
            member_id=tokens["member_id"],
            AUTH_ID=tokens["access_token"],
        )
        assert resp.status_code == 200
    assert _app_info_calls(emu) == 1  # reopening tabs costs no portal call


def test_an_unreachable_portal_is_a_502_even_with_the_application_token(make_services):
    """The proof needs the portal; when it does not answer the frame says so (502)."""
    svc = make_services(emulator_address="127.0.0.1:9", b24_client_id=CLIENT_ID)
    install(svc, domain="127.0.0.1:9", proved_auth_id=None)
    client = create_app(services=svc).test_client()
    resp = open_widget(
        client, "lead_object", placement=LEAD_TAB, options={"ID": "7"}, domain="127.0.0.1:9"
    )
    assert resp.status_code == 502
    assert "не отвечает" in resp.get_data(as_text=True)


def test_tokens_never_reach_the_log(emu, emu_world, caplog):
    _, client, tokens = emu_world
    open_widget(
        client,
        "lead_object",
        placement=LEAD_TAB,
        options={"ID": "7"},
        domain=emu.domain,
        member_id=tokens["member_id"],
        APPLICATION_TOKEN="z" * 32,
        AUTH_ID=tokens["access_token"],
    )
    open_widget(
        client,
        "lead_object",
        placement=LEAD_TAB,
        options={"ID": "7"},
        domain=emu.domain,
        member_id=tokens["member_id"],
        APPLICATION_TOKEN=None,
        AUTH_ID="f" * 64,
    )
    text = caplog.text
    assert tokens["access_token"] not in text and "z" * 32 not in text and "f" * 64 not in text
    assert APP_TOKEN not in text


def test_a_page_bearer_is_not_a_frame_proof(services):
    """The old b2b reports page re-posted its frame with the page's signed bearer
    (``BEARER``); that page is gone (its reports are on the app's «Отчёты» page, which calls
    its API with the bearer in a header), and so is the form path: a frame POST holding only
    a valid page bearer — no APPLICATION_TOKEN, no AUTH_ID — is refused."""
    from tests.support.bearers import widget_bearer

    install(services, playbooks=("b2b",))
    client = create_app(services=services).test_client()
    bearer = widget_bearer(services, MEMBER)
    resp = open_widget(
        client, "reports", placement="CRM_ANALYTICS_MENU",
        APPLICATION_TOKEN=None, AUTH_ID=None, BEARER=bearer,
    )  # fmt: skip
    assert resp.status_code == 401
    gone = open_widget(client, "b2b_reports", placement="CRM_ANALYTICS_MENU")
    assert gone.status_code == 404


def test_a_garbage_auth_expires_is_the_cache_maximum_not_a_500(emu, emu_world):
    svc, client, tokens = emu_world
    for expires in ("\u00b2", "9" * 5000):  # "²".isdigit() is True; int() refuses 5000 digits
        svc.redis.flushdb()
        resp = open_widget(
            client,
            "lead_object",
            placement=LEAD_TAB,
            options={"ID": "7"},
            domain=emu.domain,
            member_id=tokens["member_id"],
            APPLICATION_TOKEN=None,
            AUTH_ID=tokens["access_token"],
            AUTH_EXPIRES=expires,
        )
        assert resp.status_code == 200
        (key,) = svc.redis.keys("b24:widget:auth:*")
        assert 0 < svc.redis.ttl(key) <= 600


def test_a_redis_outage_while_the_page_key_seed_is_needed_is_a_503_page(
    emu, emu_world, monkeypatch
):
    """Without a client secret the bearer's key derives from a seed in Redis: when Redis is
    down the frame says "try again" (503) instead of a 500 or a page with no bearer."""
    import redis

    _, client, tokens = emu_world

    def down(*args, **kwargs):
        raise redis.ConnectionError("Redis is down")

    monkeypatch.setattr(redis.Redis, "get", down)
    monkeypatch.setattr(redis.Redis, "set", down)
    resp = open_widget(
        client, "lead_object", placement=LEAD_TAB, options={"ID": "7"}, domain=emu.domain,
        member_id=tokens["member_id"], AUTH_ID=tokens["access_token"],
    )  # fmt: skip
    assert resp.status_code == 503
    assert "временно недоступен" in resp.get_data(as_text=True)
