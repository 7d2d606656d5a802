"""Every error family keeps its Bitrix code through the gateway (emulator over HTTP, real Redis).

Cases the emulator cannot produce (HTML bodies, a dead port) use a tiny local aiohttp
server or a closed port.
"""

from __future__ import annotations

import contextlib
import socket
import threading

import pytest
from aiohttp import web

from app.portal import errors
from app.portal.errors import error_class, is_retryable
from tests.app.test_portal_support import (
    SleepRecorder,
    memory_client,
    request_log,
    webhook_credentials,
)


@pytest.fixture
def hook_client(emulator, redis_url):
    client, store = memory_client(webhook_credentials(emulator), redis_url)
    return client


def _raises(cls, fn, *args, **kwargs):
    with pytest.raises(cls) as info:
        fn(*args, **kwargs)
    return info.value


def test_400_legacy_empty_code_is_not_found_with_empty_code(hook_client):
    exc = _raises(errors.NotFound, hook_client.call, "crm.lead.get", {"id": 987654})
    assert exc.code == ""
    assert exc.status == 400
    assert exc.description == "Not found"
    assert exc.method == "crm.lead.get"


def test_400_d7_not_found_keeps_code(hook_client):
    exc = _raises(
        errors.NotFound, hook_client.call, "crm.item.get", {"entityTypeId": 2, "id": 987654}
    )
    assert (exc.code, exc.status) == ("NOT_FOUND", 400)


def test_400_invalid_filter_is_invalid_field(hook_client):
    exc = _raises(
        errors.InvalidField,
        hook_client.call,
        "crm.item.list",
        {"entityTypeId": 2, "filter": {"noSuchField": 1}},
    )
    assert exc.code == "INVALID_ARG_VALUE"
    assert not is_retryable(exc)


def test_401_invalid_webhook_marks_reinstall_and_sends_once(emulator, redis_url):
    creds = webhook_credentials(emulator)
    broken = creds.__class__(
        **{**creds.__dict__, "webhook_url": creds.webhook_url.replace("/rest/1/", "/rest/2/")}
    )
    client, store = memory_client(broken, redis_url)
    exc = _raises(errors.TokenInvalid, client.call, "profile")
    assert (exc.code, exc.status) == ("INVALID_CREDENTIALS", 401)
    assert store.load(creds.member_id).status == "needs_reinstall"
    # the next call refuses locally instead of hammering the portal
    before = len(request_log(emulator))
    _raises(errors.TokenInvalid, client.call, "profile")
    assert len(request_log(emulator)) == before


def test_401_expired_in_webhook_mode_is_token_expired(emulator, hook_client):
    emulator.admin.post("faults", {"fail_next": [{"method": "profile", "status": 401, "count": 1}]})
    exc = _raises(errors.TokenExpired, hook_client.call, "profile")
    assert (exc.code, exc.status) == ("expired_token", 401)
    assert is_retryable(exc)


def test_403_scope_and_auth_type_are_access_denied(emulator, redis_url):
    client, _ = memory_client(webhook_credentials(emulator, scopes=["crm"]), redis_url)
    exc = _raises(errors.AccessDenied, client.call, "user.get", {"ID": 1})
    assert (exc.code, exc.status) == ("insufficient_scope", 403)
    exc = _raises(
        errors.AccessDenied,
        client.call,
        "event.bind",
        {"event": "ONCRMLEADADD", "handler": "https://x/"},
    )
    assert exc.code == "WRONG_AUTH_TYPE"


def test_404_unknown_method(hook_client):
    exc = _raises(errors.MethodNotFound, hook_client.call, "crm.nothing.here")
    assert (exc.code, exc.status) == ("ERROR_METHOD_NOT_FOUND", 404)


def test_503_is_retried_then_succeeds(emulator, hook_client):
    emulator.admin.post("faults", {"fail_next": [{"method": "profile", "status": 503, "count": 2}]})
    assert hook_client.call("profile")["ID"] == "1"
    statuses = [e["status"] for e in request_log(emulator) if e["method"] == "profile"]
    assert statuses == [503, 503, 200]


def test_503_forever_raises_rate_limited_after_bounded_attempts(emulator, redis_url):
    client, _ = memory_client(webhook_credentials(emulator), redis_url, max_attempts=3)
    emulator.admin.post(
        "faults", {"fail_next": [{"method": "profile", "status": 503, "count": 50}]}
    )
    exc = _raises(errors.RateLimited, client.call, "profile")
    assert exc.code == "QUERY_LIMIT_EXCEEDED"
    assert len([e for e in request_log(emulator) if e["method"] == "profile"]) == 3


def test_429_waits_for_the_reset_then_retries(emulator, redis_url):
    sleeps = SleepRecorder()
    client, _ = memory_client(webhook_credentials(emulator), redis_url, sleep=sleeps)
    emulator.admin.post("faults", {"fail_next": [{"method": "profile", "status": 429, "count": 1}]})
    assert client.call("profile")["ID"] == "1"
    assert client.stats["operating_waits"] == 1
    assert max(sleeps.calls) > 30  # slept until the (unknown → one minute) reset


def test_429_beyond_max_wait_raises_with_code(emulator, redis_url):
    client, _ = memory_client(webhook_credentials(emulator), redis_url, max_attempts=2, max_wait=0)
    emulator.admin.post("faults", {"fail_next": [{"method": "profile", "status": 429, "count": 5}]})
    exc = _raises(errors.OperatingLimit, client.call, "profile")
    assert exc.code == "OPERATION_TIME_LIMIT"
    assert exc.reset_at is not None  # the gateway knows when to look again
    # the second attempt was refused locally: the method is marked spent until its reset
    assert len([e for e in request_log(emulator) if e["method"] == "profile"]) == 1


def test_500_on_write_is_not_resent_but_read_is(emulator, hook_client):
    emulator.admin.post(
        "faults", {"fail_next": [{"method": "crm.item.add", "status": 500, "count": 1}]}
    )
    exc = _raises(
        errors.ServerError,
        hook_client.call,
        "crm.item.add",
        {"entityTypeId": 2, "fields": {"title": "x"}},
    )
    assert (exc.code, exc.status) == ("INTERNAL_SERVER_ERROR", 500)
    assert len([e for e in request_log(emulator) if e["method"] == "crm.item.add"]) == 1
    emulator.admin.post(
        "faults", {"fail_next": [{"method": "crm.item.list", "status": 500, "count": 1}]}
    )
    assert hook_client.call("crm.item.list", {"entityTypeId": 2}) == {"items": []}


def test_timeout_is_transport_error_and_write_not_resent(emulator, redis_url):
    client, _ = memory_client(webhook_credentials(emulator), redis_url, read_timeout=0.5)
    emulator.admin.post(
        "faults",
        {"error_rates": {"timeout": 1.0}, "timeout_seconds": 3, "methods": ["crm.item.add"]},
    )
    exc = _raises(
        errors.TransportError,
        client.call,
        "crm.item.add",
        {"entityTypeId": 2, "fields": {"title": "t"}},
    )
    assert exc.code == "TIMEOUT"
    assert is_retryable(exc)
    assert len([e for e in request_log(emulator) if e["method"] == "crm.item.add"]) <= 1


def test_refused_connection_is_retried_boundedly_and_hides_the_secret(redis_url):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nobody listens
    from app.portal.tokens import Credentials

    dead = Credentials(
        member_id="m-dead",
        domain=f"127.0.0.1:{port}",
        client_endpoint=None,
        server_endpoint=None,
        auth_mode="webhook",
        webhook_url=f"http://127.0.0.1:{port}/rest/1/supersecretcode/",
    )
    sleeps = SleepRecorder()
    client, _ = memory_client(dead, redis_url, sleep=sleeps, max_attempts=3)
    exc = _raises(errors.TransportError, client.call, "profile")
    assert exc.code == "CONNECT"
    assert client.stats["requests"] == 3
    assert len(sleeps.calls) == 2  # a backoff between attempts, none after the last
    text = f"{exc} {exc!r} {exc.description} {exc.__cause__!r} {exc.__context__!r}"
    assert "supersecretcode" not in text


@contextlib.contextmanager
def _tiny_server(status: int, body: str, content_type: str):
    """A local server answering every request with one canned response."""
    import asyncio

    async def handler(request):
        return web.Response(status=status, text=body, content_type=content_type)

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/rest/1/abc/"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.run_until_complete(runner.cleanup())
        loop.close()


def _creds_for(url: str):
    from app.portal.tokens import Credentials

    return Credentials(
        member_id="m-tiny",
        domain="127.0.0.1",
        client_endpoint=None,
        server_endpoint=None,
        auth_mode="webhook",
        webhook_url=url,
    )


def test_html_200_is_transport_error(redis_url):
    with _tiny_server(200, "<html>maintenance</html>", "text/html") as url:
        client, _ = memory_client(_creds_for(url), redis_url, max_attempts=1)
        exc = _raises(errors.TransportError, client.call, "crm.item.add", {"entityTypeId": 2})
    assert exc.code == "NOT_JSON"
    assert exc.status == 200


def test_html_502_is_server_error(redis_url):
    with _tiny_server(502, "<html>bad gateway</html>", "text/html") as url:
        client, _ = memory_client(_creds_for(url), redis_url, max_attempts=1)
        exc = _raises(errors.ServerError, client.call, "crm.item.add", {"entityTypeId": 2})
    assert exc.status == 502


def test_200_with_error_body_raises(redis_url):
    body = '{"error": "ERROR_CORE", "error_description": "went wrong"}'
    with _tiny_server(200, body, "application/json") as url:
        client, _ = memory_client(_creds_for(url), redis_url)
        exc = _raises(errors.InvalidField, client.call, "crm.item.add", {"entityTypeId": 2})
    assert (exc.code, exc.description) == ("ERROR_CORE", "went wrong")


@pytest.mark.parametrize(
    ("code", "description", "status", "cls"),
    [
        ("OVERLOAD_LIMIT", "", 503, errors.RateLimited),
        ("PORTAL_DELETED", "Portal was deleted", 403, errors.PortalGone),
        ("ERROR_HANDLER_ALREADY_EXIST", "", 400, errors.AlreadyExists),
        ("ERROR_ACTIVITY_ALREADY_INSTALLED", "", 400, errors.AlreadyExists),
        ("ERROR_EVENT_NOT_FOUND", "", 400, errors.NotFound),
        ("", "ID is not defined or invalid.", 400, errors.NotFound),
        ("", "Access denied.", 400, errors.AccessDenied),
        ("", "The field TITLE is required.", 400, errors.InvalidField),
        ("ERROR_CORE", "SQL query error!", 500, errors.ServerError),
        ("100", "Could not find value for parameter {fields}", 400, errors.InvalidField),
        ("PAYMENT_REQUIRED", "Payment required", 402, errors.PaymentRequired),
        ("user_access_error", "", 403, errors.AccessDenied),
        ("ERROR_UNEXPECTED_ANSWER", "", 500, errors.ServerError),
        ("SOMETHING_NEW", "", 418, errors.InvalidField),
    ],
)
def test_codes_the_emulator_does_not_send_map_by_table(code, description, status, cls):
    assert error_class(code, description, status) is cls
