"""The b2b survey page (``GET/POST /nps/<token>``): the client's phone, no Bitrix24 login.

The token is the only credential (``app.nps.token``): a tampered or unknown one is 404, an
expired one 410, a deal already answered 409 — each with a short page, never a stack
trace. A valid POST stores the answers (the row is what makes the link single-use) and
enqueues ``app.jobs.nps.record_nps`` to write them to the portal; the page never calls the
portal itself. An answer whose job could not be queued (Redis down) is re-queued by the
clock (``app.nps.requeue``).
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, request

from app.handlers import services
from app.nps import page
from app.nps.token import Claim, TokenError, read

bp = Blueprint("nps", __name__)
log = logging.getLogger(__name__)
HTML = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
MAX_BODY = 16 * 1024


def _claim(token: str) -> Claim:
    from app.store import installations

    def secret_of(member_id: str) -> str | None:
        with services().session() as session:
            row = installations.get(session, member_id)
            return row.application_token if row is not None else None

    return read(token, secret_of, time.time())


def _page(status: int, **kw):
    return page.render(**kw), status, HTML


def _refused(exc: TokenError):
    if exc.kind == "expired":
        return _page(410, form=False, message="Срок действия ссылки истёк.", error=True)
    return _page(404, form=False, message="Ссылка недействительна.", error=True)


def _answered(claim: Claim) -> bool:
    from app.store import nps

    with services().session() as session:
        return nps.get(session, claim.member_id, claim.deal_id) is not None


@bp.get("/nps/<token>")
def show(token: str):
    try:
        claim = _claim(token)
    except TokenError as exc:
        return _refused(exc)
    if _answered(claim):
        return _page(409, form=False, message="Спасибо, ответ уже получен.")
    return _page(200, form=True)


@bp.post("/nps/<token>")
def answer(token: str):
    from app.nps.requeue import enqueue_record
    from app.store import nps
    from app.store.base import utcnow

    if (request.content_length or 0) > MAX_BODY:
        return _page(413, form=False, message="Слишком длинный ответ.", error=True)
    try:
        claim = _claim(token)
    except TokenError as exc:
        return _refused(exc)
    try:
        got = page.parse(request.form)
    except page.FormInvalid as exc:
        return _page(400, form=True, message=str(exc), error=True, values=request.form)
    row = nps.NpsAnswer(
        member_id=claim.member_id, deal_id=claim.deal_id, delivery=got.delivery,
        packaging=got.packaging, shelf=got.shelf, comment=got.comment, answered_at=utcnow(),
    )  # fmt: skip
    with services().session() as session:
        try:
            nps.add(session, row)
        except nps.AlreadyAnswered:
            return _page(409, form=False, message="Спасибо, ответ уже получен.")
    try:
        enqueue_record(services(), claim.member_id, claim.deal_id)
    except Exception:  # noqa: BLE001 - the answer is stored (written_at empty): the client
        # is thanked; the clock's sweep (app.nps.requeue) enqueues the job later
        log.exception("survey answer of deal %s stored but not queued", claim.deal_id)
    return _page(200, form=False, message="Спасибо! Ваша оценка получена.")
