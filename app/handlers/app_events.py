"""``POST /app-events``: ONAPPINSTALL, ONAPPUPDATE, ONAPPUNINSTALL (§3.4–3.6).

Authentication: the installation must exist (the installer POST created it) and
``auth[application_token]`` must equal the stored token (constant time;
api-reference/events/safe-event-handlers.md). ``auth[domain]`` is only the event's claim: one
other than the stored domain (a renamed portal names its new one) is never called or stored;
it schedules the verified address check (``app.jobs.events.confirm_portal_address``: a token
refresh at the STORED OAuth server, whose answer names the portal's address), as ``/events``
and ``/robots`` do. Before, such events were refused with 403 until the next token refresh
happened to store the new address, and an ONAPPUPDATE in that hour was lost. Then:

* ONAPPINSTALL / ONAPPUPDATE with the stored token: the version is recorded; an update
  re-runs the installer (the portal deleted our robots).
* The first token (ONAPPINSTALL while none is stored) and a rotated one (ONAPPUPDATE: "after a
  new version is installed, Bitrix24 passes a new token") cannot be compared: they go to the
  ``confirm_app_event`` job, which proves the event's access_token is OUR app's
  (``app.info`` CODE = ``B24_CLIENT_ID``), its user an administrator (``user.admin``) and —
  for an update — that ``app.info`` really reports the new VERSION, before storing anything.
* ONAPPUNINSTALL carries no tokens and "the application has already been removed"
  (api-reference/common/events/on-app-uninstall.md). The stored token only admits it to the
  ``confirm_uninstall`` job, which asks the portal: if OUR stored token still works there,
  the app is installed and the event was forged — nothing is wiped. Only a confirmed
  uninstall wipes the tokens, and it PAUSES the portal's timers (a reinstall resumes them).

Everything refused answers 401/403 with nothing stored, enqueued or called. While Redis is
down, accepted events are kept in the SQL store and replayed by the clock (``app.intake``).
"""

from __future__ import annotations

import json
import logging
import secrets

from flask import Blueprint, Response, request

from app.handlers import services
from app.handlers.forms import FormError, parse_body
from app.intake import REDIS_DOWN, enqueue_or_keep, keep
from app.ratelimit import guard
from app.security import tokens_match
from app.store import installations
from app.sync.intake import confirm_address, same_host
from config.logging import log_context

log = logging.getLogger(__name__)
bp = Blueprint("app_events", __name__)
bp.before_request(guard("app-events"))  # unauthenticated: per-client limit

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
            stored, stored_domain = row.application_token, row.domain
        if tokens_match(stored, auth["application_token"]):
            if stored_domain and not same_host(stored_domain, str(auth.get("domain") or "")):
                _confirm_address(svc, member_id)
            return _verified(svc, name, member_id, form)
        if name == "ONAPPUNINSTALL" or not auth.get("access_token"):
            return _answer(401, "application token mismatch")
        if name == "ONAPPINSTALL" and stored:
            return _answer(401, "application token mismatch")
        return _confirm_later(svc, name, member_id, form)


def _confirm_address(svc, member_id: str) -> None:
    """The proved event names another domain: have the address confirmed the verified way
    (once per cooldown; app.sync.intake.confirm_address), enqueued through the events
    inbox's job table as ``/robots`` does. With Redis down the event still counts; a later
    event schedules the check."""
    from app.handlers.events import _enqueue as enqueue_event_job

    try:
        confirm_address(svc.redis, lambda job, *args: enqueue_event_job(svc, job, *args), member_id)
    except REDIS_DOWN:
        log.info("address check not scheduled: Redis is down")


def _verified(svc, name: str, member_id: str, form: dict) -> Response:
    data = form.get("data") if isinstance(form.get("data"), dict) else {}
    if name == "ONAPPUNINSTALL":
        # the application token alone proves little (every frame form carries it): the job
        # asks the portal whether the app is really gone before anything is wiped
        enqueue_or_keep(svc, member_id, "events", "app.jobs.install.confirm_uninstall", member_id)
        log.info("ONAPPUNINSTALL queued for confirmation with the portal")
        return _answer(202, "accepted for confirmation")
    # data[VERSION] is not recorded here: the application token reaches every user who opens
    # the app (APPLICATION_TOKEN in the frame form), so the version comes from app.info only
    if name == "ONAPPUPDATE":
        # the portal deleted our robots on update: run the installer again
        enqueue_or_keep(svc, member_id, "sync", "app.jobs.install.install_portal", member_id)
        log.info("app updated to version %s; installer re-enqueued", data.get("VERSION"))
    return _answer(200, "ok")


def _confirm_later(svc, name: str, member_id: str, form: dict) -> Response:
    payload = {"event": name, "data": form.get("data") or {}, "auth": form.get("auth") or {}}
    try:
        stash_and_confirm(svc, member_id, payload)
    except REDIS_DOWN:
        keep(svc, member_id, "lifecycle", payload)  # replayed by the clock (app.intake)
    log.info("%s queued for verification with app.info", name)
    return _answer(202, "accepted for verification")


def stash_and_confirm(svc, member_id: str, payload: dict) -> None:
    """Stash the event under a random id (tokens never travel in job arguments) and enqueue
    ``confirm_app_event``; raises a Redis error when Redis is down."""
    from app.jobs.install import STASH_TTL_S, stash_key
    from app.queues import enqueue

    stash_id = secrets.token_hex(16)
    svc.redis.set(stash_key(member_id, stash_id), json.dumps(payload), ex=STASH_TTL_S)
    enqueue(svc, "events", "app.jobs.install.confirm_app_event", member_id, stash_id)
