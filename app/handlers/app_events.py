"""``POST /app-events``: ONAPPINSTALL, ONAPPUPDATE, ONAPPUNINSTALL (§3.4–3.6).

Authentication: the installation must exist (the installer POST created it), the event's
``auth[domain]`` must be its stored domain, and ``auth[application_token]`` must equal the
stored token (constant time). Two cases cannot be checked that way and go to the
``confirm_app_event`` job, which proves the event's access_token with ``app.info`` on the
stored domain before trusting anything: the first token (ONAPPINSTALL while none is stored)
and a rotated one (ONAPPUPDATE). ONAPPUNINSTALL carries no tokens: the stored
application_token is its only proof. Everything refused answers 401/403 with nothing stored,
enqueued or called.
"""

from __future__ import annotations

import json
import logging
import secrets

from flask import Blueprint, Response, request

from app.handlers import services
from app.handlers.forms import FormError, parse_body
from app.security import tokens_match
from app.store import installations
from config.logging import log_context

log = logging.getLogger(__name__)
bp = Blueprint("app_events", __name__)

MAX_BODY = 64 * 1024
LIFECYCLE = ("ONAPPINSTALL", "ONAPPUPDATE", "ONAPPUNINSTALL")


def _answer(status: int, text: str) -> Response:
    if status >= 400:
        log.warning("app event refused (%s): %s", status, text)
    return Response(text, status=status, mimetype="text/plain")


@bp.post("/app-events")
def app_event() -> Response:
    raw = request.get_data(cache=False)
    try:
        form = parse_body(raw, max_body=MAX_BODY)
    except FormError as exc:
        return _answer(400, str(exc))
    name = str(form.get("event") or "").upper()
    auth = form.get("auth") if isinstance(form.get("auth"), dict) else {}
    member_id = str(auth.get("member_id") or "")
    if name not in LIFECYCLE:
        return _answer(400, "not an application lifecycle event")
    if not member_id or not auth.get("application_token"):
        return _answer(401, "auth[member_id] and auth[application_token] are required")
    svc = services()
    with log_context(member_id):
        with svc.session() as session:
            row = installations.get(session, member_id)
            if row is None:
                return _answer(401, "unknown installation")
            if str(auth.get("domain") or "").lower() != row.domain:
                return _answer(403, "domain does not match the installation")
            stored = row.application_token
        if tokens_match(stored, auth["application_token"]):
            return _verified(svc, name, member_id, form)
        if name == "ONAPPUNINSTALL" or not auth.get("access_token"):
            return _answer(401, "application token mismatch")
        if name == "ONAPPINSTALL" and stored:
            return _answer(401, "application token mismatch")
        return _confirm_later(svc, name, member_id, form)


def _verified(svc, name: str, member_id: str, form: dict) -> Response:
    from app.queues import enqueue

    data = form.get("data") if isinstance(form.get("data"), dict) else {}
    if name == "ONAPPUNINSTALL":
        with svc.session.begin() as session:  # one transaction: both or neither
            installations.deactivate(session, member_id)
            _cancel_timers(session, member_id)
        log.info("uninstalled: tokens wiped, timers cancelled")
        return _answer(200, "ok")
    with svc.session.begin() as session:
        if data.get("VERSION"):
            installations.upsert_verified(session, member_id, app_version=str(data["VERSION"]))
    if name == "ONAPPUPDATE":
        # the portal deleted our robots on update: run the installer again
        enqueue(svc, "sync", "app.jobs.install.install_portal", member_id)
        log.info("app updated to version %s; installer re-enqueued", data.get("VERSION"))
    return _answer(200, "ok")


def _confirm_later(svc, name: str, member_id: str, form: dict) -> Response:
    from app.jobs.install import STASH_TTL_S, stash_key
    from app.queues import enqueue

    stash_id = secrets.token_hex(16)
    payload = {"event": name, "data": form.get("data") or {}, "auth": form.get("auth") or {}}
    svc.redis.set(stash_key(member_id, stash_id), json.dumps(payload), ex=STASH_TTL_S)
    enqueue(svc, "events", "app.jobs.install.confirm_app_event", member_id, stash_id)
    log.info("%s queued for verification with app.info", name)
    return _answer(202, "accepted for verification")


def _cancel_timers(session, member_id: str) -> None:
    try:
        from app.timers.service import cancel_all_for_portal
    except ModuleNotFoundError as exc:
        if exc.name not in ("app.timers", "app.timers.service"):
            raise
        return
    cancel_all_for_portal(session, member_id)
