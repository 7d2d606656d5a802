"""Constant-time secret comparison and application-token verification."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any


def tokens_match(a: str | bytes | None, b: str | bytes | None) -> bool:
    """True when both are non-empty and equal; constant time; ``None``/empty never match."""
    if not a or not b:
        return False
    if isinstance(a, str):
        a = a.encode("utf-8")
    if isinstance(b, str):
        b = b.encode("utf-8")
    return hmac.compare_digest(a, b)


def verify_application_token(installation: Any, token: str | None) -> bool:
    """True when ``token`` equals the installation's stored ``application_token``.

    An installation without a stored token (not confirmed yet) or an uninstalled one never
    verifies: events for it are refused rather than trusted.
    """
    if installation is None or getattr(installation, "status", None) == "uninstalled":
        return False
    return tokens_match(getattr(installation, "application_token", None), token)


class VerificationFailed(Exception):
    """The token did not prove itself on the portal (rejected, or the portal is unreachable).

    ``reachable`` is False for transport failures (worth a retry), True when the portal
    answered and refused the token.
    """

    def __init__(self, message: str, *, reachable: bool = True) -> None:
        super().__init__(message)
        self.reachable = reachable


VERIFY_TIMEOUT_S = 5.0


class NotOurApp(VerificationFailed):
    """The token works on the portal but was issued to another application."""


class NotAdmin(VerificationFailed):
    """The token is ours but its user is not a portal administrator."""


def is_our_app(info: dict, settings) -> bool:
    """Does an ``app.info`` answer describe THIS app?

    ``app.info`` (api-reference/common/system/app-info.md) names the calling application by
    ``CODE``; a local application's code is its client id (``local.…``), a marketplace
    application's is its vendor code. It must equal ``B24_CLIENT_ID`` (or ``B24_APP_CODE`` when
    set). Without ``B24_CLIENT_ID`` nothing can be proved: fail safe, False.
    """
    ours = {v for v in (settings.b24_client_id, getattr(settings, "b24_app_code", None)) if v}
    if not ours:
        return False
    named = {str(info.get(k)) for k in ("CODE", "CLIENT_ID") if info.get(k) not in (None, "")}
    return bool(named & ours)


def verify_token_on_portal(
    settings, domain: str, access_token: str | None, *, require_admin: bool = False
) -> dict:
    """Prove ``access_token`` is OUR app's token on ``domain``; return ``app.info``'s result.

    1. ``app.info`` on the (allow-listed) ``domain`` must answer — the token is live there;
    2. its ``CODE`` must be our app (:func:`is_our_app`) — a token another app on the same
       portal received proves nothing about us (:class:`NotOurApp`);
    3. with ``require_admin``, ``user.admin`` (api-reference/common/users/user-admin.md) must
       answer ``true`` — only a portal administrator may change the installation
       (:class:`NotAdmin`).

    The only unauthenticated outbound calls the app makes; ``domain`` is allow-listed here
    again, so no caller can make us call an arbitrary host. Raises
    :class:`VerificationFailed`; never logs the token.
    """
    from app.allowlist import portal_base_url

    if not access_token:
        raise VerificationFailed("no access token to verify")
    try:
        base = portal_base_url(domain, settings)
    except PermissionError as exc:
        raise VerificationFailed(str(exc)) from None
    info = _portal_result(base, "app.info", access_token)
    if not isinstance(info, dict):
        raise VerificationFailed("app.info answered no application")
    if not is_our_app(info, settings):
        raise NotOurApp("the token was issued to another application")
    if require_admin and _portal_result(base, "user.admin", access_token) is not True:
        raise NotAdmin("the user is not a portal administrator")
    return info


def viewer_on_portal(settings, domain: str, access_token: str | None) -> dict:
    """Who holds ``access_token`` on ``domain``: ``{"user_id", "name", "admin"}``.

    The token must be OUR app's (``app.info``, as in :func:`verify_token_on_portal`); then
    ``user.current`` (api-reference/user/user-current.md) names the user and ``user.admin``
    (api-reference/common/users/user-admin.md) says whether they administer the portal. A
    page uses this to show an admin's controls and to record who changed what. Raises
    :class:`VerificationFailed`; never logs the token.
    """
    from app.allowlist import portal_base_url

    verify_token_on_portal(settings, domain, access_token)
    base = portal_base_url(domain, settings)
    user = _portal_result(base, "user.current", access_token or "")
    if not isinstance(user, dict) or not str(user.get("ID") or "").isdigit():
        raise VerificationFailed("user.current named no user")
    name = " ".join(str(user.get(k) or "").strip() for k in ("NAME", "LAST_NAME")).strip()
    admin = _portal_result(base, "user.admin", access_token or "") is True
    return {"user_id": int(user["ID"]), "name": name or f"#{user['ID']}", "admin": admin}


def _portal_result(base: str, method: str, access_token: str) -> Any:
    """POST ``method`` with ``auth``; its ``result`` or :class:`VerificationFailed`."""
    import requests

    status, body = _answer(
        "portal",
        lambda: requests.post(
            f"{base}/rest/{method}",
            json={"auth": access_token},
            timeout=VERIFY_TIMEOUT_S,
            allow_redirects=False,  # a redirect could lead off the allow-list
        ),
    )
    if status != 200 or not isinstance(body, dict) or "result" not in body:
        code = body.get("error") if isinstance(body, dict) else None
        raise VerificationFailed(f"{method} refused the token (HTTP {status} {code or ''})".strip())
    return body["result"]


def bind_member_id(settings, server_endpoint: str | None, refresh_token: str | None) -> dict:
    """Exchange ``refresh_token`` at the (allow-listed) OAuth server; return the token body.

    ``app.info`` proves a token works on a domain but says nothing about ``member_id``; the
    OAuth server's answer carries the authoritative ``member_id`` and ``client_endpoint`` of
    the portal the token belongs to, so the installer can refuse a forged member_id. Needs
    ``B24_CLIENT_ID``/``B24_CLIENT_SECRET``. The refresh token is consumed: store the pair
    returned here. Raises :class:`VerificationFailed`.
    """
    import requests

    from app.allowlist import is_allowed_oauth_server

    if not (settings.b24_client_id and settings.b24_client_secret):
        raise VerificationFailed("no OAuth client credentials configured")
    if not server_endpoint or not refresh_token:
        raise VerificationFailed("SERVER_ENDPOINT and REFRESH_ID are required")
    base = server_endpoint.rstrip("/")
    base = base[: -len("/rest")] if base.endswith("/rest") else base
    url = base + "/oauth/token/"
    if not is_allowed_oauth_server(url, settings):
        raise VerificationFailed("OAuth server not allowed")
    params = {
        "grant_type": "refresh_token",
        "client_id": settings.b24_client_id,
        "client_secret": settings.b24_client_secret,
        "refresh_token": refresh_token,
    }
    status, body = _answer(
        "OAuth server",
        lambda: requests.get(url, params=params, timeout=VERIFY_TIMEOUT_S, allow_redirects=False),
    )
    if status != 200 or not isinstance(body, dict) or not body.get("access_token"):
        code = body.get("error") if isinstance(body, dict) else None
        raise VerificationFailed(f"OAuth server refused the refresh token ({code or status})")
    return body


def _answer(who: str, send: Callable[[], Any]) -> tuple[int, Any]:
    """Send one verification request: (HTTP status, JSON body or None). Transport failures
    and 5xx raise :class:`VerificationFailed` with ``reachable=False`` (worth a retry); the
    caller judges any other answer."""
    import requests

    try:
        resp = send()
    except requests.RequestException as exc:
        raise VerificationFailed(
            f"{who} unreachable: {type(exc).__name__}", reachable=False
        ) from None
    if resp.status_code >= 500:
        raise VerificationFailed(f"{who} answered HTTP {resp.status_code}", reachable=False)
    try:
        return resp.status_code, resp.json()
    except ValueError:
        return resp.status_code, None
