"""Token verification against a portal / OAuth server that misbehaves: transport failures
and 5xx are "unreachable" (worth a retry), other refusals are final; nothing else passes."""

import http.server
import json
import threading

import pytest

from app.security import NotOurApp, VerificationFailed, bind_member_id, verify_token_on_portal
from config.settings import Settings


@pytest.fixture
def host():
    """A loopback host answering every request with the scripted (status, body)."""
    script = {"answer": (200, {})}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _reply(self):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            status, body = script["answer"]
            raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _reply  # noqa: N815

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"127.0.0.1:{server.server_address[1]}"
    yield address, script
    server.shutdown()
    server.server_close()


def _settings(address):
    return Settings(emulator_address=address, b24_client_id="app.1", b24_client_secret="s")


def _portal(address, script, status, body):
    script["answer"] = (status, body)
    return verify_token_on_portal(_settings(address), address, "token")


def _oauth(address, script, status, body):
    script["answer"] = (status, body)
    return bind_member_id(_settings(address), f"http://{address}/rest/", "refresh")


def test_portal_answers_are_judged(host):
    address, script = host
    ours = {"ID": 7, "CODE": "app.1"}
    assert _portal(address, script, 200, {"result": ours}) == ours
    with pytest.raises(NotOurApp):  # a live token of another app on the portal
        _portal(address, script, 200, {"result": {"ID": 8, "CODE": "local.other.1"}})
    with pytest.raises(VerificationFailed) as refused:
        _portal(address, script, 401, {"error": "invalid_token"})
    assert refused.value.reachable and "invalid_token" in str(refused.value)
    with pytest.raises(VerificationFailed) as garbage:
        _portal(address, script, 200, "not json")
    assert garbage.value.reachable
    with pytest.raises(VerificationFailed) as down:
        _portal(address, script, 503, {"error": "QUERY_LIMIT_EXCEEDED"})
    assert not down.value.reachable and "portal answered HTTP 503" in str(down.value)


def test_oauth_server_answers_are_judged(host):
    address, script = host
    tokens = {"access_token": "a", "refresh_token": "r", "member_id": "m"}
    assert _oauth(address, script, 200, tokens) == tokens
    with pytest.raises(VerificationFailed) as refused:
        _oauth(address, script, 400, {"error": "invalid_grant"})
    assert refused.value.reachable and "invalid_grant" in str(refused.value)
    with pytest.raises(VerificationFailed) as down:
        _oauth(address, script, 502, "")
    assert not down.value.reachable and "OAuth server answered HTTP 502" in str(down.value)


def test_unreachable_hosts_are_worth_a_retry(host):
    from b24emu.testing import free_port

    address = f"127.0.0.1:{free_port()}"  # nobody listens there
    with pytest.raises(VerificationFailed) as portal:
        verify_token_on_portal(_settings(address), address, "token")
    assert not portal.value.reachable and "portal unreachable" in str(portal.value)
    with pytest.raises(VerificationFailed) as oauth:
        bind_member_id(_settings(address), f"http://{address}/rest/", "refresh")
    assert not oauth.value.reachable and "OAuth server unreachable" in str(oauth.value)
