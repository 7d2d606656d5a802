"""Who is looking at a page, and the signed bearer that carries it to our page APIs.

A frame POST proves the portal opened the page (``app.widgets._gate``) but not who the
viewing user is. Pages that show an admin's controls (settings, cancelling a timer) or
record who changed something ask :func:`viewer`: the frame's ``AUTH_ID`` is the viewing
user's token, so ``user.current`` and ``user.admin`` on the STORED domain answer it
(``app.security.viewer_on_portal``). The answer is cached in Redis under a SHA-256 of
(member_id, AUTH_ID) — never the token — for at most ``CACHE_MAX_S``.

The page's JS then calls our APIs with a **page bearer**:
``p1.<expires>.<user_id>.<admin 0|1>.<hex>``, ``hex = HMAC-SHA256(key=page key,
msg="page:<member_id>:<expires>:<user_id>:<admin>")``. It proves the holder got it from us
for this portal, who the viewer is and whether they are an admin, until ``expires``.
:func:`verify_bearer` checks it in constant time; ``app.handlers.page_api`` wraps it for
routes. A staff member's bearer lives an hour, an admin's five minutes: the page's script
renews it with the viewer's current token (``app.widgets._page_js``,
``app.handlers.page_bearer``), so admin rights the portal took away end within minutes.

The page key (:func:`page_key`) is NOT the application token: newer portals post
``APPLICATION_TOKEN`` in every frame form (docs/bitrix24-protocol §3.2), so every user who
opens a tab holds it and could sign themselves an admin bearer. The key is an HMAC of the
installation's application token under a secret only the server knows: the OAuth app's
client secret (``B24_CLIENT_SECRET``), else a random seed kept in Redis (made on first use;
losing it only makes open pages ask to be reopened). Reinstalling (a new token) still voids
old bearers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass

from app.security import VerificationFailed, tokens_match, viewer_on_portal
from app.widgets import WidgetContext, WidgetError, t

log = logging.getLogger(__name__)

CACHE_MAX_S = 600
BEARER_TTL_S = 3600
# An admin's rights are re-proved more often: their bearer lives 5 minutes (an open page
# renews it: app.handlers.page_bearer) and the portal's "admin" answer is cached a minute,
# so a user who lost admin rights keeps them in our pages for minutes, not an hour.
ADMIN_BEARER_TTL_S = 300
ADMIN_CACHE_S = 60
PREFIX = "p1"
SEED_AT = "b24:page:seed"  # Redis: the server-only secret page keys derive from


@dataclass(frozen=True)
class Viewer:
    """The portal user looking at a page."""

    user_id: int
    name: str
    admin: bool


def _cache_key(member_id: str, auth_id: str) -> str:
    digest = hashlib.sha256(f"{member_id}\0{auth_id}".encode()).hexdigest()
    return f"b24:widget:viewer:{digest}"


def viewer(ctx: WidgetContext) -> Viewer:
    """The viewing user of ``ctx`` (asks the portal once per token; 401/502 WidgetError)."""
    if not ctx.auth_id:
        raise WidgetError(
            t(ctx, "Откройте страницу из портала заново", "Reopen the page from the portal"), 401
        )
    key = _cache_key(ctx.member_id, ctx.auth_id)
    cached = ctx.services.redis.get(key)
    if cached:
        data = json.loads(cached)
        return Viewer(int(data["user_id"]), str(data["name"]), bool(data["admin"]))
    try:
        data = viewer_on_portal(ctx.services.settings, ctx.domain, ctx.auth_id)
    except VerificationFailed as exc:
        log.warning("viewer not identified: %s", exc)
        if not exc.reachable:
            raise WidgetError(
                t(ctx, "Портал не отвечает, попробуйте позже", "The portal does not answer"), 502
            ) from None
        raise WidgetError(
            t(ctx, "Не удалось определить пользователя", "Could not tell who you are"), 401
        ) from None
    most = ADMIN_CACHE_S if data["admin"] else CACHE_MAX_S
    ttl = min(most, ctx.auth_expires or most)
    if ttl > 0:
        ctx.services.redis.set(key, json.dumps(data), ex=ttl)
    return Viewer(data["user_id"], data["name"], data["admin"])


def page_key(services, member_id: str, app_token: str) -> str:
    """The key ``member_id``'s page bearers are signed with (see module docstring)."""
    secret = getattr(services.settings, "b24_client_secret", None) or _seed(services.redis)
    msg = f"page-key:{member_id}:{app_token}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def _seed(redis) -> str:
    """A random server-only secret kept in Redis, for deployments without a client secret."""
    seed = redis.get(SEED_AT)
    if seed is None:  # first use: several workers may race, NX keeps the first one's
        redis.set(SEED_AT, secrets.token_hex(32), nx=True)
        seed = redis.get(SEED_AT)
    return seed.decode() if isinstance(seed, bytes) else seed


def _sign(key: str, member_id: str, expires: int, user_id: int, admin: bool) -> str:
    msg = f"page:{member_id}:{expires}:{user_id}:{int(admin)}".encode()
    return hmac.new(key.encode(), msg, hashlib.sha256).hexdigest()


def issue_bearer(
    key: str, member_id: str, who: Viewer, *, ttl: int = BEARER_TTL_S, now=None
) -> str:
    """A page bearer for ``who`` on ``member_id``, valid ``ttl`` seconds (``key``:
    :func:`page_key`)."""
    expires = int((now or time.time()) + ttl)
    digest = _sign(key, member_id, expires, who.user_id, who.admin)
    return f"{PREFIX}.{expires}.{who.user_id}.{int(who.admin)}.{digest}"


def verify_bearer(
    key: str | None, member_id: str, bearer: str | None, *, now=None
) -> Viewer | None:
    """The viewer a valid, unexpired page bearer names; None for anything else."""
    if not key or not bearer:
        return None
    parts = bearer.split(".")
    if len(parts) != 5 or parts[0] != PREFIX:
        return None
    _, expires, user_id, admin, digest = parts
    if not (_number(expires) and _number(user_id) and admin in ("0", "1")):
        return None
    if int(expires) < (now or time.time()):
        return None
    expected = _sign(key, member_id, int(expires), int(user_id), admin == "1")
    if not tokens_match(expected, digest):
        return None
    return Viewer(int(user_id), "", admin == "1")


def _number(text: str) -> bool:
    """ASCII digits of a sane length: ``"²".isdigit()`` is True but ``int("²")`` raises, and
    ``int`` refuses strings over 4300 digits — a forged bearer must be a 401, never a 500."""
    return text.isascii() and text.isdigit() and len(text) <= 12


def naming_bearer(ctx: WidgetContext) -> str:
    """The bearer a tab's script calls the widget APIs (``/booking/``, ``/objects/``) with:
    a page bearer naming the viewer when the portal tells who is looking — a booking or a
    merge is then attributed to that person (``app.objects.access.caller``) — else the
    tab's anonymous widget bearer: the tab still works, its actions go unattributed."""
    try:
        return bearer_for(ctx)[1]
    except WidgetError as exc:
        log.info("the viewer could not be told (%s): the tab's actions go unattributed", exc)
        return ctx.bearer


def bearer_ttl(who: Viewer) -> int:
    """How long a bearer for ``who`` lives: an admin's short (see ADMIN_BEARER_TTL_S)."""
    return ADMIN_BEARER_TTL_S if who.admin else BEARER_TTL_S


def page_bearer(ctx: WidgetContext, app_token: str) -> tuple[Viewer, str]:
    """(viewer, bearer) for a page that needs to know its viewer."""
    who = viewer(ctx)
    key = page_key(ctx.services, ctx.member_id, app_token)
    return who, issue_bearer(key, ctx.member_id, who, ttl=bearer_ttl(who))


def bearer_for(ctx: WidgetContext) -> tuple[Viewer, str]:
    """(viewer, page bearer) of ``ctx``'s installation (its stored application token)."""
    from app.store import installations

    with ctx.services.session() as session:
        row = installations.get(session, ctx.member_id)
        app_token = row.application_token if row is not None else None
    if not app_token:
        raise WidgetError(t(ctx, "Приложение не установлено", "The app is not installed"), 403)
    return page_bearer(ctx, app_token)


__all__ = [
    "Viewer",
    "viewer",
    "page_key",
    "issue_bearer",
    "verify_bearer",
    "bearer_for",
    "naming_bearer",
    "page_bearer",
]
