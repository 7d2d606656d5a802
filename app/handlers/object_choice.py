"""API of the lead tab's "create Object with a choice" (metal, spec §1 lead rule 6).

Guarded by the page bearer (``app.handlers.page_api``): any portal user who opened the tab
may choose (the rule is the responsible's own action), and the job records who did.

* ``GET  /objects/<member_id>/leads/<lead_id>/choice`` → ``{"linked", "complete", "missing",
  "candidates": [ids]}`` (the page polls it until the Object appears)
* ``POST /objects/<member_id>/leads/<lead_id>/choice`` ``{"action": "create"|"link",
  "object_id"}`` → 202 ``{"queued": true}``; refused → 404/409 ``{"error"}`` in the page's
  language (lead not synced, an Object already linked, dimensions missing, no such Object)
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate

from app.handlers import services as current_services
from app.handlers.bounds import Id, valid_id
from app.handlers.page_api import page_api, refuse
from app.objects import choice

bp = Blueprint("object_choice", __name__)


class ChoiceBody(Schema):
    action = fields.String(required=True, validate=validate.OneOf([choice.CREATE, choice.LINK]))
    object_id = Id(load_default=None)


@bp.get("/objects/<member_id>/leads/<int:lead_id>/choice")
@page_api()
def show(member_id: str, lead_id: int):
    if valid_id(lead_id) is None:
        return refuse(404, "Лид не найден", "Lead not found")
    with current_services().session() as session:
        found = choice.lead_choice(session, member_id, lead_id)
    if found is None:
        return refuse(404, "Лид ещё не загружен из портала", "The lead has not been synced yet")
    return jsonify(
        {
            "linked": found.linked,
            "complete": found.complete,
            "missing": found.missing,
            "candidates": found.candidates,
        }
    )


@bp.post("/objects/<member_id>/leads/<int:lead_id>/choice")
@page_api()
def choose(member_id: str, lead_id: int):
    try:
        body = ChoiceBody().load(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return jsonify({"error": exc.messages}), 400
    if body["action"] == choice.LINK and body["object_id"] is None:
        return refuse(400, "Выберите объект для привязки", "Choose the Object to link")
    if valid_id(lead_id) is None:
        return refuse(404, "Лид не найден", "Lead not found")
    object_id = body["object_id"] if body["action"] == choice.LINK else None
    with current_services().session() as session:
        refused = choice.refusal(session, member_id, lead_id, body["action"], object_id)
    if refused is not None:
        return refuse(refused.status, refused.ru, refused.en)
    _enqueue(member_id, lead_id, body["action"], object_id, g.viewer.user_id)
    return jsonify({"queued": True}), 202


def _enqueue(member_id: str, lead_id: int, action: str, object_id, user_id: int) -> None:
    """Queue the job unless the same choice is already waiting (a double click); a repeat
    that slips past this check still writes nothing twice (the actions' idempotency keys)."""
    from rq.job import Job, JobStatus

    from app.queues import enqueue

    services = current_services()
    job_id = choice.job_id(member_id, lead_id, action, object_id)
    try:
        waiting = Job.fetch(job_id, connection=services.redis).get_status() in (
            JobStatus.QUEUED,
            JobStatus.STARTED,
            JobStatus.DEFERRED,
            JobStatus.SCHEDULED,
        )
    except Exception:  # noqa: BLE001 - no such job (or an unreadable one): queue it
        waiting = False
    if waiting:
        return
    enqueue(
        services,
        "sync",
        "app.objects.choice.apply_choice",
        member_id,
        lead_id,
        action,
        object_id,
        user_id,
        job_id=job_id,
        description=f"object_choice {member_id} {lead_id} {action}",
    )
