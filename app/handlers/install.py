"""``POST /install``: the installer page an admin opens in the portal frame (§3.2).

Steps: parse → allow-list the domain and the OAuth server → if the member_id is known, the
domain must be the stored one → verify AUTH_ID on that domain: ``app.info`` must answer and
name OUR app (``CODE`` = ``B24_CLIENT_ID``, api-reference/common/system/app-info.md), and
``user.admin`` must be true (api-reference/common/users/user-admin.md): the install form
reaches any user who opens the app, and only an administrator may replace the app's
tokens or reinstall it → with OAuth
client credentials configured, exchange REFRESH_ID at the OAuth server, whose answer must
name the same member_id and domain (app.info cannot prove the member_id) → store →
enqueue ``install_portal`` → answer a framable HTML page that polls
``GET /install/status/<view>`` and calls ``BX24.installFinish()`` when the playbooks are in.

The ``app.info`` call is the ONE documented exception to "handlers never call the portal":
nothing may be stored before the token proves itself (otherwise anyone could overwrite a
portal's tokens with a forged form), and the admin is waiting in the frame for exactly this
answer. It goes only to allow-listed hosts, with a short timeout and no redirects.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, render_template_string, request

from app.allowlist import is_allowed_oauth_server, is_allowed_portal, portal_base_url
from app.handlers import services
from app.installers.language import portal_language
from app.intake import enqueue_or_keep
from app.ratelimit import guard
from app.security import NotAdmin, VerificationFailed, bind_member_id, verify_token_on_portal
from app.store import installations
from app.store.base import utcnow
from config.logging import log_context

log = logging.getLogger(__name__)
bp = Blueprint("install", __name__)
bp.before_request(guard("install"))  # unauthenticated: per-client limit

MEMBER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
VIEW_TTL_S = 3600
INSTALL_QUEUE = "sync"
INSTALL_JOB = "app.jobs.install.install_portal"


def view_key(view: str) -> str:
    return f"b24:install:view:{view}"


def _refuse(status: int, reason: str) -> Response:
    log.warning("install refused (%s): %s", status, reason)
    return Response(reason, status=status, mimetype="text/plain")


@bp.post("/install")
def install() -> Response:
    """Verify the installer POST, store the installation, enqueue the playbook install."""
    svc = services()
    settings = svc.settings
    domain = (request.args.get("DOMAIN") or "").strip().lower()
    form = request.form
    member_id = (form.get("member_id") or "").strip()
    access, refresh = form.get("AUTH_ID") or "", form.get("REFRESH_ID") or ""
    if not (domain and MEMBER_ID.match(member_id) and access and refresh):
        return _refuse(400, "DOMAIN, member_id, AUTH_ID and REFRESH_ID are required")
    if not is_allowed_portal(domain, settings):
        return _refuse(403, "portal domain not allowed")
    server_endpoint = form.get("SERVER_ENDPOINT") or None
    if server_endpoint and not is_allowed_oauth_server(server_endpoint, settings):
        # the gateway will send our client_secret there on refresh: never to an unknown host
        return _refuse(403, "OAuth server not allowed")
    with log_context(member_id):
        with svc.session() as session:
            existing = installations.get(session, member_id)
            if existing is not None and existing.domain != domain:
                return _refuse(403, "member_id belongs to another domain")
        try:
            info = verify_token_on_portal(settings, domain, access, require_admin=True)
            tokens = _bound_tokens(settings, member_id, domain, server_endpoint, form)
        except NotAdmin as exc:
            log.warning("install refused: %s", exc)
            return _refuse(403, "only a portal administrator can install the app")
        except VerificationFailed as exc:
            # the reason goes to our log; the client learns nothing about the network
            log.warning("install token not verified: %s", exc)
            if not exc.reachable:
                return _refuse(502, "the portal could not be reached; try again later")
            return _refuse(401, "token not verified")
        except PermissionError as exc:
            return _refuse(403, str(exc))
        _store(svc, member_id, domain, server_endpoint, info, tokens, form, existing is not None)
        # Redis down: the job waits in the SQL store and the clock enqueues it later
        enqueue_or_keep(svc, member_id, INSTALL_QUEUE, INSTALL_JOB, member_id)
        view = _new_view(svc, member_id)
        log.info("installation verified and stored; playbook install enqueued")
    return Response(
        render_template_string(PAGE, view=view, bx24_js_url=svc.settings.bx24_js_url),
        mimetype="text/html",
    )


def _bound_tokens(settings, member_id, domain, server_endpoint, form) -> dict:
    """Tokens to store; with OAuth credentials configured, also proves ``member_id``.

    The OAuth server's refresh answer names the token's portal (member_id, client_endpoint):
    a form whose member_id or DOMAIN disagrees is forged (PermissionError). Without client
    credentials only app.info was checked and the form's tokens are stored as given.
    """
    if not (settings.b24_client_id and settings.b24_client_secret):
        log.warning("B24_CLIENT_ID/SECRET unset: member_id not cross-checked with the OAuth server")
        expires_in = form.get("AUTH_EXPIRES") or "3600"
        seconds = int(expires_in) if expires_in.isdigit() else 3600
        return {
            "access_token": form["AUTH_ID"],
            "refresh_token": form["REFRESH_ID"],
            "expires_at": utcnow() + timedelta(seconds=seconds),
        }
    body = bind_member_id(settings, server_endpoint, form["REFRESH_ID"])
    endpoint_host = urlsplit(str(body.get("client_endpoint") or "")).netloc.lower()
    if body.get("member_id") != member_id or endpoint_host != domain:
        raise PermissionError("the token belongs to another portal than the form claims")
    return {
        "access_token": body["access_token"],
        "refresh_token": body.get("refresh_token") or form["REFRESH_ID"],
        "expires_at": body.get("expires") or utcnow() + timedelta(seconds=3600),
    }


def _store(svc, member_id, domain, server_endpoint, info, tokens, form, known: bool) -> None:
    with svc.session.begin() as session:
        row = installations.get(session, member_id)
        app_token = form.get("APPLICATION_TOKEN") or None
        if row is not None and row.application_token:
            # a stored token changes only through ONAPPUPDATE (verified there), never here
            app_token = None
        installations.upsert_verified(
            session,
            member_id,
            domain=domain,
            client_endpoint=portal_base_url(domain, svc.settings) + "/rest/",
            server_endpoint=server_endpoint,
            auth_mode="oauth",
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            expires_at=tokens["expires_at"],
            application_token=app_token,
            scopes=form.get("APPLICATION_SCOPE") or None,
            app_version=str(info.get("VERSION")) if info.get("VERSION") is not None else None,
            status="installing",
            install_progress="queued",
            # stage, pipeline and list names are installed in the portal's language
            lang=portal_language(info.get("LANGUAGE_ID"), request.args.get("LANG")),
            last_error="",
            playbooks=None if known else list(svc.settings.playbooks),
        )
        row = installations.get(session, member_id)
        row.webhook_url = None  # an OAuth install supersedes a webhook connection


def _view_key_secret(settings) -> bytes | None:
    import hashlib

    secret = settings.b24_client_secret
    return hashlib.sha256(b"install-view\0" + secret.encode()).digest() if secret else None


def _signed_view(settings, member_id: str, expires: int) -> str | None:
    import hashlib
    import hmac

    key = _view_key_secret(settings)
    if key is None:
        return None
    mac = hmac.new(key, f"{member_id}|{expires}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"s.{member_id}.{expires}.{mac}"


def _new_view(svc, member_id: str) -> str:
    """The id the installer page polls with: a Redis key, or — when Redis is down — a view
    signed with a key derived from the client secret, so the page still learns when the
    install (replayed later) is done and calls ``installFinish``."""
    import time

    from app.intake import REDIS_DOWN

    view = secrets.token_urlsafe(24)
    try:
        svc.redis.set(view_key(view), member_id, ex=VIEW_TTL_S)
        return view
    except REDIS_DOWN:
        return _signed_view(svc.settings, member_id, int(time.time()) + VIEW_TTL_S) or view


def _view_member(svc, view: str) -> str | None:
    import hmac
    import time

    if view.startswith("s."):
        try:
            _, member_id, expires, _mac = view.split(".", 3)
            deadline = int(expires)
        except ValueError:
            return None
        expected = _signed_view(svc.settings, member_id, deadline)
        if expected is None or not hmac.compare_digest(expected, view) or deadline < time.time():
            return None
        return member_id
    raw = svc.redis.get(view_key(view))
    return raw.decode() if raw is not None else None


@bp.get("/install/status/<view>")
def install_status(view: str):
    """Progress of the install the page with this ``view`` id started (no secrets)."""
    from app.intake import REDIS_DOWN

    svc = services()
    try:
        member_id = _view_member(svc, view[:300])
    except REDIS_DOWN:
        return jsonify({"error": "try again"}), 503
    if member_id is None:
        return jsonify({"error": "unknown or expired"}), 404
    with svc.session() as session:
        row = installations.get(session, member_id)
        if row is None:
            return jsonify({"error": "unknown"}), 404
        return jsonify(
            {
                "status": row.status,
                "progress": row.install_progress or "",
                "error": row.last_error or "",
                "done": row.status == "active",
            }
        )


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Installing…</title>
<script src="{{ bx24_js_url }}"></script>
<style>body{font:14px sans-serif;margin:2em}#err{color:#b00}</style></head>
<body><h2>Setting up your portal</h2>
<p id="progress">Starting…</p><p id="err"></p>
<script>
(function () {
  var url = "{{ url_for('install.install_status', view=view) }}";
  function finish() {
    if (window.BX24 && BX24.installFinish) { BX24.installFinish(); }
  }
  function poll() {
    fetch(url).then(function (r) { return r.json(); }).then(function (s) {
      document.getElementById("progress").textContent = s.progress || s.status || "";
      document.getElementById("err").textContent = s.error || "";
      if (s.done) { finish(); } else { setTimeout(poll, 1500); }
    }).catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
</script></body></html>
"""
