"""``POST /pages/<member_id>/bearer``: an open page renews its page bearer.

A page bearer (``app.widgets._viewer``) says who the viewer is and whether they administer
the portal, as the portal answered when the page was opened. An admin's bearer therefore
lives only ``ADMIN_BEARER_TTL_S`` (5 minutes): a user whose admin rights were taken away
keeps them in our pages at most that long (plus the viewer cache's ``ADMIN_CACHE_S``), not
the hour a bearer used to live. So that a page left open keeps working, its script
(``app.widgets._page_js``) answers a 401 from our APIs by asking here for a new bearer
with the viewer's current token (``BX24.getAuth()``; the portal refreshes it) and tries
once more.

The body is ``{"auth": "<access token>"}``. It is proved like a frame's ``AUTH_ID``: on
the STORED domain of ``member_id`` (never one named by the request), ``app.info`` must
name our app and ``user.current`` / ``user.admin`` say who holds it — so, like a page
opening, this handler asks the portal (at most once per token and cache period). The
answer is ``{"bearer", "admin", "expires"}``, or a JSON refusal the page shows. Limited
per client address like the other endpoints that prove nothing yet (``app.ratelimit``).
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request
from redis.exceptions import RedisError

from app.handlers import services
from app.handlers.page_api import refuse
from app.ratelimit import guard
from app.widgets._gate import MEMBER_ID

log = logging.getLogger(__name__)
bp = Blueprint("page_bearer", __name__)
bp.before_request(guard("page-bearer"))

MAX_TOKEN = 512  # Bitrix24 access tokens are ~70 characters; anything far longer is junk


@bp.post("/pages/<member_id>/bearer")
def renew(member_id: str):
    from app.store import installations
    from app.widgets import WidgetContext, WidgetError
    from app.widgets._viewer import page_bearer

    body = request.get_json(silent=True)
    token = body.get("auth") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN:
        return refuse(400, "Нет токена пользователя портала", "The portal user's token is missing")
    svc = services()
    row = None
    if MEMBER_ID.match(member_id):
        with svc.session() as session:
            row = installations.get(session, member_id)
    if row is None or row.status != "active" or not row.application_token:
        return refuse(401, "Приложение не установлено", "The app is not installed")
    ctx = WidgetContext(
        member_id=member_id,
        domain=row.domain,
        code="",
        placement="",
        record_id=None,
        options={},
        lang="en" if request.args.get("lang") == "en" else "ru",
        bearer="",
        services=svc,
        auth_id=token.strip(),
    )
    try:
        who, bearer = page_bearer(ctx, row.application_token)
    except WidgetError as exc:
        return jsonify({"error": str(exc)}), exc.status
    except RedisError:  # the viewer cache, or the page key's seed without a client secret
        return refuse(
            503,
            "Сервис временно недоступен, попробуйте через минуту",
            "The service is briefly unavailable; try again in a minute",
        )
    _remember_name(svc, member_id, who)
    expires = int(bearer.split(".")[1])
    return jsonify({"bearer": bearer, "admin": who.admin, "expires": expires})


def _remember_name(svc, member_id: str, who) -> None:
    """The settings audit names the person (the bearer carries only the id): keep the name
    as long as the new bearer lives, as the settings page does when it opens."""
    from app.handlers.settings_api import NAME_TTL_S, name_key

    try:
        svc.redis.set(name_key(member_id, who.user_id), who.name, ex=NAME_TTL_S)
    except Exception:  # noqa: BLE001 — the audit falls back to the user's id
        log.warning("viewer name not kept for the audit")
