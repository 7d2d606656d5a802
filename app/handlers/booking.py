"""HTTP API of the measurement booking widget (kitchens «Замер», spec §3 rule 9).

Every route is under ``/booking/<member_id>/`` and is verified per portal exactly like the
Object merge window (``app.objects.access``): ``Authorization: Bearer <signed token>``, the
token the app hands the widget's iframe for that portal (signed with its server-side page
key, with an expiry). The application token is no credential: portals post it to every
viewing user's browser. Anything else is 401; a booking of another portal is 404.

* ``GET  /booking/<m>/slots?after=<ISO>&measurer_id=<id>&n=<1..20>`` → ``{"slots": [...]}``
* ``POST /booking/<m>/bookings`` ``{"lead_id", "measurer_id", "start", "address",
  "staff_contact", "wishes"}`` → 201 ``{"booking"}``; refused → 409 ``{"problems",
  "offers"}`` (also for a lead another playbook owns: only kitchens leads are measured);
  ``wishes`` (the client's special wishes) are written to the lead's
  ``UF_CRM_KT_WISHES`` with the booking
* ``POST /booking/<m>/bookings/<id>/reschedule`` ``{"start", "measurer_id"?}`` → 200 / 409
* ``POST /booking/<m>/bookings/<id>/cancel`` → 200

The store is changed in the request; the lead is written by the ``write_booking`` job.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Blueprint, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate

from app.booking import service
from app.handlers import services as current_services
from app.handlers.bounds import Id, Moment, valid_id, valid_moment
from app.objects import access
from app.playbooks.settings import effective
from app.store import bookings, mirror

bp = Blueprint("booking", __name__)
_MEMBER = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class BookBody(Schema):
    lead_id = Id(required=True)
    measurer_id = Id(required=True)
    start = Moment(required=True)
    address = fields.String(load_default="", validate=validate.Length(max=500))
    staff_contact = fields.String(load_default="", validate=validate.Length(max=200))
    wishes = fields.String(load_default="", validate=validate.Length(max=2000))


class MoveBody(Schema):
    start = Moment(required=True)
    measurer_id = Id(load_default=None)


def _caller(member_id: str) -> access.Caller | None:
    """Who calls (``access.caller``): a booking is attributed to the viewer a page bearer
    names; None: refuse with 401."""
    if not _MEMBER.match(member_id):
        return None
    return access.caller(current_services(), member_id, request.headers.get("Authorization"))


def _authorized(member_id: str) -> bool:
    return _caller(member_id) is not None


def _slot(s) -> dict:
    return {"measurer_id": s.measurer_id, "start": s.start.isoformat(), "end": s.end.isoformat()}


def _booking(row: bookings.MeasurementBooking) -> dict:
    return {
        "id": row.id,
        "lead_id": row.lead_id,
        "measurer_id": row.measurer_id,
        "start": row.start.isoformat(),
        "end": row.end.isoformat(),
        "address": row.address,
        "staff_contact": row.staff_contact,
        "state": row.state,
        "version": row.version,
    }


def _policy(session, member_id: str) -> service.Policy:
    return service.Policy.from_settings(effective(session, member_id, "kitchens"))


def _write(
    member_id: str, row: bookings.MeasurementBooking, wishes: str = "", by: int | None = None
) -> None:
    from app.queues import enqueue

    enqueue(
        current_services(),
        "sync",
        "app.booking.jobs.write_booking",
        member_id,
        row.id,
        row.version,
        row.state,
        wishes,
        by,
        job_id=f"booking-{member_id}-{row.id}-{row.version}-{row.state}"[:120],
        description=f"write_booking {member_id} {row.id}",
    )


def _refused(exc: service.Refused):
    return jsonify({"problems": exc.problems, "offers": [_slot(s) for s in exc.offers]}), 409


def _load(schema: Schema):
    try:
        return schema.load(request.get_json(silent=True) or {}), None
    except ValidationError as exc:
        return None, (jsonify({"error": exc.messages}), 400)


@bp.get("/booking/<member_id>/slots")
def slots(member_id: str):
    if not _authorized(member_id):
        return jsonify({"error": "unauthorized"}), 401
    now = datetime.now(UTC)
    after = valid_moment(request.args["after"]) if "after" in request.args else now
    n_text = request.args.get("n", str(service.OFFERS))
    measurer = valid_id(request.args["measurer_id"]) if "measurer_id" in request.args else 0
    if after is None or measurer is None or not (n_text.isdigit() and len(n_text) < 4):
        return jsonify(
            {
                "error": "after must be ISO 8601 with an offset (2000…2100), n 1…20, measurer_id an id"
            }
        ), 400
    n = min(max(int(n_text), 1), 20)
    measurer = measurer or None
    with current_services().session() as session:
        found = service.free_slots(
            session,
            member_id,
            _policy(session, member_id),
            max(after, now),
            measurer_id=measurer,
            n=n,
        )
    return jsonify({"slots": [_slot(s) for s in found]})


@bp.post("/booking/<member_id>/bookings")
def create(member_id: str):
    who = _caller(member_id)
    if who is None:
        return jsonify({"error": "unauthorized"}), 401
    body, error = _load(BookBody())
    if error:
        return error
    with current_services().session() as session:
        if mirror.get(session, member_id, "lead", body["lead_id"]) is None:
            # only a lead this portal has (its mirror copy) can be booked; one the mirror
            # has not seen yet is retried by the widget after the lead's event is processed
            return jsonify({"error": "lead not found on this portal"}), 404
        foreign = service.not_kitchens(service.lead_owner(session, member_id, body["lead_id"]))
        if foreign:  # another playbook's lead: no measurement, nothing reserved
            return jsonify({"error": foreign[0], "problems": foreign, "offers": []}), 409
        gaps = service.lead_problems(session, member_id, body["lead_id"])
        if gaps:  # the lead may not enter «Замер назначен» yet: nothing is reserved
            return jsonify(
                {"problems": ["Лид не готов к замеру: " + "; ".join(gaps)], "offers": []}
            ), 409
        wishes = body.pop("wishes")
        try:
            row = service.book(
                session, member_id, _policy(session, member_id), datetime.now(UTC), **body
            )
        except service.Refused as exc:
            session.rollback()
            return _refused(exc)
        session.commit()
        out = _booking(row)
        _write(member_id, row, wishes, who.user_id)
    return jsonify({"booking": out}), 201


@bp.post("/booking/<member_id>/bookings/<int:booking_id>/reschedule")
def move(member_id: str, booking_id: int):
    who = _caller(member_id)
    if who is None:
        return jsonify({"error": "unauthorized"}), 401
    body, error = _load(MoveBody())
    if error:
        return error
    if valid_id(booking_id) is None:
        return jsonify({"error": "not found"}), 404
    with current_services().session() as session:
        row = bookings.get(session, member_id, booking_id)
        if row is None:
            return jsonify({"error": "not found"}), 404
        try:
            service.reschedule(
                session,
                member_id,
                _policy(session, member_id),
                datetime.now(UTC),
                row,
                body["start"],
                body["measurer_id"],
            )
        except service.Refused as exc:
            session.rollback()
            return _refused(exc)
        session.commit()
        out = _booking(row)
        _write(member_id, row, by=who.user_id)
    return jsonify({"booking": out})


@bp.post("/booking/<member_id>/bookings/<int:booking_id>/cancel")
def cancel(member_id: str, booking_id: int):
    who = _caller(member_id)
    if who is None:
        return jsonify({"error": "unauthorized"}), 401
    if valid_id(booking_id) is None:
        return jsonify({"error": "not found"}), 404
    with current_services().session() as session:
        row = bookings.get(session, member_id, booking_id)
        if row is None:
            return jsonify({"error": "not found"}), 404
        if row.state == bookings.ACTIVE:
            bookings.cancel(session, row)
            session.commit()
            _write(member_id, row, by=who.user_id)
        out = _booking(row)
    return jsonify({"booking": out})
