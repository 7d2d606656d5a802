"""``POST /robots/<code>``: a robot call from the portal's automation (protocol §6.2).

Verify, parse, claim, enqueue on the ``robots`` queue (the highest priority), answer 200 —
the portal is called from here only to prove the call's access token (below); the
``run_robot`` job answers with
``bizproc.event.send``. Authentication is the one the event inbox uses (same helpers): the
installation of ``auth[member_id]`` must exist and ``auth[application_token]`` match it in
constant time (401); an ``auth[domain]`` other than the stored one (a renamed portal) only
schedules the verified address check ``/events`` uses. Then the call's own
``auth[access_token]`` — the token of the robot's ``AUTH_USER_ID`` the portal passes to the
application (api-reference/bizproc/bizproc-robot/bizproc-robot-add.md) — must be OUR app's
on the STORED domain (``app.info``, cached per token hash: ``app.token_proof``; 401, or 503
when the portal does not answer the check). This is the one portal call the handler makes:
the application token is shared by every event and frame of the portal, and a
``use_subscription=N`` call has no event-token proof at all (the job's
``bizproc.activity.log`` needs a waiting activity); the token is never queued or logged.
A replayed POST while the first is still queued is not enqueued again; after that the job itself sees it was answered.
With Redis down the verified call is kept in the SQL store (``app.intake``) and still
answered 200; the clock replays it when Redis is back.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, request
from marshmallow import ValidationError

from app.handlers import services as current_services
from app.handlers.events import _enqueue as _enqueue_event_job
from app.handlers.events import _find
from app.handlers.forms import FormError, parse_body
from app.intake import REDIS_DOWN, keep
from app.robots.call import RobotCall, load_call
from app.robots.registry import get_spec
from app.security import VerificationFailed, tokens_match
from app.store import inbox, robot_runs
from app.sync.intake import _verified, confirm_address, same_host
from app.token_proof import prove_cached

log = logging.getLogger(__name__)
bp = Blueprint("robots", __name__)

MAX_BODY = 128 * 1024  # properties may carry long texts; a real call is a few KiB
JOB = "app.jobs.robots.run_robot"


def _answer(status: int, text: str) -> Response:
    return Response(text, status=status, mimetype="text/plain")


def pending_key(call: RobotCall) -> str:
    """The Redis marker of a queued call (cleared by the job when it has finished)."""
    digest = robot_runs.token_digest(call.event_token)
    return inbox.pending_key(call.member_id, "robot", call.code, digest)


@bp.post("/robots/<code>")
def robot_call(code: str) -> Response:
    if get_spec(code.lower()) is None:
        return _answer(404, "unknown robot")
    if request.content_length is not None and request.content_length > MAX_BODY:
        return _answer(413, "payload too large")
    try:
        form = parse_body(request.get_data(cache=False), max_body=MAX_BODY)
        call = load_call(code, form)
    except FormError as exc:
        return _answer(400, f"malformed form: {exc}")
    except ValidationError as exc:
        return _answer(400, f"malformed robot call: {sorted(exc.messages)}")
    svc = current_services()
    auth = form["auth"]
    installation = _find(svc, call.member_id)
    if not _verified(installation, auth, tokens_match):
        installation = _find(svc, call.member_id, fresh=True)
    if not _verified(installation, auth, tokens_match):
        log.warning("robot %s refused: unknown member or wrong application token", call.code)
        return _answer(401, "unauthorized")
    if (
        installation.domain
        and auth.get("domain")
        and not same_host(installation.domain, auth["domain"])
    ):
        # proved by the application token: a renamed portal names its new domain. Not used;
        # the address is confirmed from the OAuth server, as for events (app.sync.intake)
        try:
            confirm_address(svc.redis, lambda job, *args: _enqueue_event_job(svc, job, *args),
                            call.member_id)  # fmt: skip
        except REDIS_DOWN:
            pass  # the call itself is kept below; a later call schedules the check
    refused = _prove_access_token(svc, installation, call, auth)
    if refused is not None:
        return refused
    try:
        hand_over(svc, call)
    except REDIS_DOWN:
        # the call is kept in the SQL store and replayed when Redis answers (app.intake):
        # answering 500 left the workflow waiting for an answer that never came
        keep(svc, call.member_id, "robot", call.to_job())
    return _answer(200, "OK")


def _prove_access_token(
    svc: Any, installation: Any, call: RobotCall, auth: dict
) -> Response | None:
    """None when the call's access token is our app's on the stored domain; else the answer."""
    try:
        prove_cached(
            svc,
            "robot",
            call.member_id,
            installation.domain,
            token if isinstance(token := auth.get("access_token"), str) else "",
            lifetime=auth.get("expires_in"),
        )
    except VerificationFailed as exc:
        log.warning("robot %s refused for %s: access token not proved (%s)",
                    call.code, call.member_id, exc)  # fmt: skip
        if not exc.reachable:
            return _answer(503, "the portal did not answer the token check; try again")
        return _answer(401, "unauthorized")
    return None


def hand_over(svc: Any, call: RobotCall, *, replay: bool = False) -> None:
    """Enqueue ``run_robot`` unless one is queued for this call already. A replay from the
    durable intake skips that check: its marker may be left from the failed first try
    (a duplicate job finds the run answered and does nothing)."""
    if replay or inbox.mark_pending(svc.redis, pending_key(call)):
        _enqueue(svc, call)


def _enqueue(svc: Any, call: RobotCall) -> None:
    from app.queues import enqueue

    # the description is what RQ logs: keep the token and property values out of it
    enqueue(
        svc,
        "robots",
        JOB,
        call.to_job(),
        description=f"run_robot {call.code} {call.document_id[-1]}",
    )
