"""Who is calling: OAuth ``auth`` tokens and incoming webhooks → :class:`Auth`, or the 401s."""

from __future__ import annotations

import secrets

from b24emu.core_state import ALL_SCOPES, Webhook
from b24emu.registry import Auth, MethodSpec, RestError
from b24emu.state import Portal


def is_admin(portal: Portal, user_id: int) -> bool:
    user = portal.users.get(user_id) or {}
    return bool(user.get("ADMIN", user_id == 1))


def webhook_auth(portal: Portal, user_id: str, code: str) -> Auth:
    """``/rest/{user_id}/{code}/…`` → Auth, or 401 INVALID_CREDENTIALS."""
    hook = portal.core.webhooks.get(code)
    valid = (
        hook is not None
        and str(hook.user_id) == user_id
        and (hook.expires_at is None or hook.expires_at > portal.clock.now())
    )
    if not valid:
        raise RestError("INVALID_CREDENTIALS", "Invalid request credentials", status=401)
    assert hook is not None
    return Auth(
        kind="webhook",
        user_id=hook.user_id,
        scopes=frozenset(hook.scopes) | {"basic"},
        webhook_code=hook.code,
        is_admin=is_admin(portal, hook.user_id),
    )


def token_auth(portal: Portal, access_token: object) -> Auth:
    """``auth=<access_token>`` → Auth, or 401 NO_AUTH_FOUND / invalid_token / expired_token."""
    if not isinstance(access_token, str) or not access_token:
        raise RestError("NO_AUTH_FOUND", "Wrong authorization data", status=401)
    token = portal.core.tokens.get(access_token)
    if token is None or token.revoked:
        raise RestError("invalid_token", "The access token provided is invalid.", status=401)
    if token.expires_at <= portal.clock.now():
        raise RestError("expired_token", "The access token provided has expired.", status=401)
    app = portal.core.apps.get(token.client_id)
    if app is None or not app.present:
        raise RestError("invalid_token", "The access token provided is invalid.", status=401)
    return Auth(
        kind="oauth",
        user_id=token.user_id,
        scopes=frozenset(token.scopes) | {"basic"},
        client_id=token.client_id,
        is_admin=is_admin(portal, token.user_id),
    )


def scope_allows(spec: MethodSpec, auth: Auth) -> bool:
    """A method's ``scope`` may list alternatives: ``"user|user_brief|user_basic"``."""
    if not spec.scope or spec.scope == "basic":
        return True
    wanted = {s.strip() for s in spec.scope.replace(",", "|").split("|") if s.strip()}
    if "task" in wanted:
        wanted.add("tasks")
    return bool(wanted & auth.scopes)


def check_method_access(spec: MethodSpec, auth: Auth, *, in_batch: bool) -> None:
    """Scope, auth-type and admin checks done by the transport before the method runs."""
    if not scope_allows(spec, auth):
        description = (
            ""
            if in_batch
            else (
                "The request requires higher privileges than provided by the "
                + ("access token" if auth.is_app else "webhook token")
            )
        )
        raise RestError("insufficient_scope", description, status=403)
    if spec.app_only and not auth.is_app:
        raise RestError(
            "WRONG_AUTH_TYPE",
            "Current authorization type is denied for this method Application context required",
            status=403,
        )
    if spec.admin_only and not auth.is_admin:
        raise RestError("ACCESS_DENIED", "Access denied!", status=403)


def create_webhook(
    portal: Portal, user_id: int = 1, scopes: list[str] | None = None, code: str | None = None
) -> Webhook:
    """Register an incoming webhook; all scopes when ``scopes`` is None."""
    hook = Webhook(
        code=code or secrets.token_hex(8),
        user_id=int(user_id),
        scopes=list(scopes) if scopes is not None else list(ALL_SCOPES),
    )
    portal.core.webhooks[hook.code] = hook
    return hook
