"""The OAuth server of the portal: ``/oauth/token/`` (GET or POST form) and ``/oauth/authorize/``.

Access tokens live ``config.access_token_lifetime`` seconds; refresh tokens rotate and are
single-use (reuse → ``invalid_grant``). The token URL the app derives from ``server_endpoint``
is ``http://127.0.0.1:PORT/oauth/token/``.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from b24emu.core_state import RefreshToken, Token
from b24emu.state import Portal


def _key() -> web.AppKey[Portal]:
    from b24emu.server import PORTAL_KEY

    return PORTAL_KEY


def _hex(n: int) -> str:
    return secrets.token_hex(n)


def server_endpoint(portal: Portal) -> str:
    return portal.core.config.oauth_server_endpoint or f"{portal.base_url}/rest/"


def issue_tokens(portal: Portal, client_id: str, user_id: int, scopes: list[str]) -> Token:
    """Mint an access+refresh pair for ``user_id`` of app ``client_id``."""
    core = portal.core
    now = portal.clock.now()
    access = _hex(35)
    refresh = _hex(35)
    token = Token(
        access_token=access,
        refresh_token=refresh,
        client_id=client_id,
        user_id=user_id,
        scopes=list(scopes),
        issued_at=now,
        expires_at=now + core.config.access_token_lifetime,
    )
    core.tokens[access] = token
    core.refresh_tokens[refresh] = RefreshToken(
        refresh, client_id, user_id, list(scopes), now + core.config.refresh_token_lifetime
    )
    return token


def token_response(portal: Portal, token: Token, *, oauth_domain: bool = True) -> dict[str, Any]:
    """The §2.2.2 token response body."""
    endpoint = server_endpoint(portal)
    return {
        "access_token": token.access_token,
        "expires": int(token.expires_at),
        "expires_in": portal.core.config.access_token_lifetime,
        "scope": ",".join(token.scopes),
        "domain": endpoint.split("://", 1)[-1].split("/", 1)[0] if oauth_domain else portal.domain,
        "server_endpoint": endpoint,
        "status": portal.core.config.app_status,
        "client_endpoint": portal.client_endpoint,
        "member_id": portal.member_id,
        "user_id": token.user_id,
        "refresh_token": token.refresh_token,
    }


def revoke_app_tokens(portal: Portal, client_id: str) -> None:
    for token in portal.core.tokens.values():
        if token.client_id == client_id:
            token.revoked = True
    for refresh in portal.core.refresh_tokens.values():
        if refresh.client_id == client_id:
            refresh.used = True


def create_auth_code(portal: Portal, client_id: str, user_id: int = 1) -> str:
    code = _hex(16)
    portal.core.auth_codes[code] = {
        "client_id": client_id,
        "user_id": user_id,
        "expires_at": portal.clock.now() + portal.core.config.auth_code_lifetime,
    }
    return code


def _error(code: str, description: str, status: int = 400) -> web.Response:
    return web.json_response({"error": code, "error_description": description}, status=status)


def grant(portal: Portal, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """Run one token request; returns (HTTP status, JSON body)."""
    core = portal.core
    app = core.apps.get(params.get("client_id", ""))
    if app is None or not secrets.compare_digest(
        app.client_secret, params.get("client_secret", "")
    ):
        return 401, {"error": "invalid_client", "error_description": "Invalid client"}
    if not app.present:
        return 401, {"error": "invalid_client", "error_description": "Application not installed"}
    if core.config.payment_required:
        return 402, {"error": "PAYMENT_REQUIRED", "error_description": "Payment required"}
    grant_type = params.get("grant_type")
    now = portal.clock.now()
    if grant_type == "authorization_code":
        data = core.auth_codes.pop(params.get("code", ""), None)
        if data is None or data["client_id"] != app.client_id or data["expires_at"] < now:
            return 400, {"error": "invalid_grant", "error_description": "Invalid grant"}
        token = issue_tokens(portal, app.client_id, data["user_id"], app.scopes)
        return 200, token_response(portal, token)
    if grant_type == "refresh_token":
        refresh = core.refresh_tokens.get(params.get("refresh_token", ""))
        if (
            refresh is None
            or refresh.used
            or refresh.client_id != app.client_id
            or refresh.expires_at < now
        ):
            return 400, {"error": "invalid_grant", "error_description": "Invalid grant"}
        refresh.used = True  # rotation: every refresh token works once
        token = issue_tokens(portal, app.client_id, refresh.user_id, refresh.scopes)
        return 200, token_response(portal, token)
    return 400, {"error": "invalid_request", "error_description": "Invalid grant_type"}


async def token_handler(request: web.Request) -> web.Response:
    portal: Portal = request.app[_key()]
    params = dict(request.query)
    if request.method == "POST":
        form = await request.post()
        params.update({k: str(v) for k, v in form.items()})
    status, body = grant(portal, params)
    portal.core.http_counts["oauth/token"] += 1
    return web.json_response(body, status=status)


async def authorize_handler(request: web.Request) -> web.Response:
    """``/oauth/authorize/?client_id=…&state=…`` → 302 to the app's redirect_uri with a code
    (the emulated admin is always logged in and always consents)."""
    portal: Portal = request.app[_key()]
    app = portal.core.apps.get(request.query.get("client_id", ""))
    if app is None or not app.present:
        return _error("invalid_client", "Invalid client", 401)
    code = create_auth_code(portal, app.client_id, int(request.query.get("user_id", "1")))
    query = {
        "code": code,
        "state": request.query.get("state", ""),
        "domain": portal.domain,
        "member_id": portal.member_id,
        "scope": ",".join(app.scopes),
        "server_domain": server_endpoint(portal).split("://", 1)[-1].split("/", 1)[0],
    }
    target = app.redirect_uri or app.handler_url
    if not target:
        return web.json_response(query)
    sep = "&" if "?" in target else "?"
    raise web.HTTPFound(f"{target}{sep}{urlencode(query)}")
