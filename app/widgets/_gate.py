"""Who opened a widget: parse the portal's frame POST (§3.2) and authenticate it.

The frame form is browser-originated, so nothing in it is trusted until proved:

* ``member_id`` must name a known, ``active`` installation; a ``DOMAIN`` query parameter must
  equal its STORED domain (everything afterwards uses the stored one);
* ``APPLICATION_TOKEN`` (newer portals), when posted, must equal the stored token (constant
  time) — but it proves nothing alone: portals post it in every frame form (§3.2), so every
  portal user, and every former one, holds it;
* ``AUTH_ID`` (the viewing user's access token) is ALWAYS proved with ``app.info`` on
  the stored domain, whose ``CODE`` must be OUR app (``B24_CLIENT_ID``; a token another app
  on the portal received is refused — api-reference/common/system/app-info.md) — the same
  documented exception to "handlers never call the portal" as
  ``app.handlers.install``: nothing else can tell a forged form from a real open, and the
  user is waiting in the frame for exactly this answer. The answer is cached
  (``app.token_proof``: a SHA-256 of the token, never the token; proved for
  min(AUTH_EXPIRES, 600) s, refused for 30 s), so reopening tabs does not call the portal
  each time and a flood of forged opens costs the portal one call.

No page of ours posts its frame back to itself any more (the old b2b reports period form
did, with a ``BEARER`` field): pages call their APIs with the page bearer in a header, so a
frame POST proves itself only with what the portal sends.

Raises :class:`app.widgets.WidgetError` with the HTTP status of the refusal.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from app.security import VerificationFailed, tokens_match
from app.store import installations
from app.token_proof import prove_cached
from app.widgets import WidgetError

log = logging.getLogger(__name__)

MEMBER_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_DETAIL = re.compile(r"_DETAIL_TAB$")


@dataclass(frozen=True)
class Opener:
    """The installation that opened the frame (secrets stay in the store row)."""

    member_id: str
    domain: str
    application_token: str | None
    playbooks: tuple[str, ...]


def msg(lang: str, ru: str, en: str) -> str:
    return en if lang == "en" else ru


def lang_of(args: Any) -> str:
    return "en" if str(args.get("LANG") or "").lower().startswith("en") else "ru"


def installation(services: Any, form: Any, args: Any, lang: str) -> Opener:
    """The active installation of the form's ``member_id`` whose domain matches (403)."""
    member_id = str(form.get("member_id") or "").strip()
    if not MEMBER_ID.match(member_id):
        raise WidgetError(msg(lang, "Портал не определён", "Unknown portal"), 403)
    with services.session() as session:
        row = installations.get(session, member_id)
        if row is None or row.status != "active":
            raise WidgetError(
                msg(
                    lang,
                    "Приложение не установлено на этом портале",
                    "The app is not installed on this portal",
                ),
                403,
            )
        opener = Opener(
            member_id,
            row.domain.lower(),
            row.application_token,
            tuple(row.playbooks or services.settings.playbooks),
        )
    claimed = str(args.get("DOMAIN") or "").strip().lower()
    if claimed and claimed != opener.domain:
        log.warning("widget open refused: DOMAIN does not match the stored domain")
        raise WidgetError(msg(lang, "Чужой портал", "Portal mismatch"), 403)
    return opener


def authenticate(services: Any, opener: Opener, form: Any, lang: str) -> None:
    """Prove the open came from the portal: a posted APPLICATION_TOKEN must match, and
    AUTH_ID must pass ``app.info`` (cached); 401 if not, 502 if the portal does not answer."""
    denied = WidgetError(
        msg(
            lang,
            "Не удалось подтвердить вход. Откройте вкладку заново.",
            "Could not verify the sign-in. Reopen the tab.",
        ),
        401,
    )
    app_token = form.get("APPLICATION_TOKEN") or ""
    if app_token and not tokens_match(opener.application_token, app_token):
        log.warning("widget open refused: application token mismatch")
        raise denied
    # the token alone is no proof (every viewer's browser holds it): the user's AUTH_ID is
    # proved too, once per token and cached (app.token_proof), so reopening tabs costs no call
    auth_id = form.get("AUTH_ID") or ""
    if not auth_id:
        raise denied
    try:
        prove_cached(
            services,
            "widget",
            opener.member_id,
            opener.domain,
            auth_id,
            lifetime=form.get("AUTH_EXPIRES"),
        )
    except VerificationFailed as exc:
        log.warning("widget open refused: AUTH_ID not verified (%s)", exc)
        if not exc.reachable:
            raise WidgetError(
                msg(
                    lang,
                    "Портал не отвечает, попробуйте позже",
                    "The portal does not answer; try again later",
                ),
                502,
            ) from None
        raise denied from None


def options(form: Any, lang: str) -> dict[str, Any]:
    """``PLACEMENT_OPTIONS`` as a dict ({} when absent; 400 when not a JSON object)."""
    raw = form.get("PLACEMENT_OPTIONS")
    if raw in (None, "", "[]"):
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # "[[[[…" nested past the parser's depth
        value = None
    if value == []:
        return {}
    if not isinstance(value, dict):
        raise WidgetError(
            msg(
                lang,
                "Некорректные параметры виджета (PLACEMENT_OPTIONS)",
                "Malformed widget parameters (PLACEMENT_OPTIONS)",
            ),
            400,
        )
    return value


def record_id(placement: str, opts: dict[str, Any], lang: str) -> int | None:
    """The record of a detail tab (a positive integer ``ID``, 400 otherwise); None elsewhere."""
    raw = opts.get("ID")
    if not _DETAIL.search(placement):
        return _positive(raw)
    value = _positive(raw)
    if value is None:
        raise WidgetError(
            msg(
                lang,
                "Не передан номер записи CRM (ID) или он вне допустимого диапазона",
                "No valid CRM record ID was passed",
            ),
            400,
        )
    return value


def _positive(raw: Any) -> int | None:
    """A record id within bounds (``app.handlers.bounds``: huge ids would overflow the store)."""
    from app.handlers.bounds import valid_id

    return valid_id(raw)
