"""The Object merge window's HTTP API (metal). Store reads and an enqueued job; no portal call.

Every route is under ``/objects/<member_id>/`` and needs ``Authorization: Bearer <signed
token>``, the bearer the merge window's frame got from the app (``app.objects.access``: signed
with the portal's server-side page key, never the application token); otherwise 401.

* ``GET  /objects/<member_id>/<object_id>/candidates`` → ``{"object_id", "candidates": [ids]}``
* ``POST /objects/<member_id>/merge/preview`` with ``{"main_id", "duplicate_ids": [..],
  "choices": {field: object_id}}`` → the plan (from the mirror)
* ``POST /objects/<member_id>/merge`` (same body) → 202 ``{"key"}``; the job merges
* ``GET  /objects/<member_id>/merge/<key>`` → the journal: state, plan, steps
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate

from app.domain.merge import MergeError
from app.handlers import services as current_services
from app.handlers.bounds import Id, valid_id
from app.objects import access, window
from app.objects.merge import MergeRequest, plan_dict
from app.store.objects_index import ObjectMerge

bp = Blueprint("objects", __name__)
_MEMBER = r"^[A-Za-z0-9_.-]{1,64}$"


class MergeBody(Schema):
    main_id = Id(required=True)
    duplicate_ids = fields.List(Id(), required=True, validate=validate.Length(1, 50))
    choices = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 100)),
        values=Id(),
        load_default=dict,
        validate=validate.Length(max=200),
    )
    # accepted for older pages, never believed: the merge is attributed to the viewer the
    # page bearer names (access.caller), not to whoever a request says it is
    requested_by = Id(load_default=None)


_BODY = MergeBody()


def _caller(member_id: str) -> access.Caller | None:
    """Who calls (``access.caller``); None: refuse with 401."""
    import re

    if not re.match(_MEMBER, member_id):
        return None
    return access.caller(current_services(), member_id, request.headers.get("Authorization"))


def _authorized(member_id: str) -> bool:
    return _caller(member_id) is not None


def _refused():
    return jsonify({"error": "unauthorized"}), 401


def _body() -> dict[str, Any] | tuple:
    try:
        return _BODY.load(request.get_json(silent=True) or {})
    except ValidationError as exc:
        return {"_error": exc.messages}


@bp.get("/objects/<member_id>/<int:object_id>/candidates")
def candidates(member_id: str, object_id: int):
    if not _authorized(member_id):
        return _refused()
    if valid_id(object_id) is None:
        return jsonify({"error": "not found"}), 404
    with current_services().session() as session:
        try:
            found = window.candidates(session, member_id, object_id)
        except MergeError as exc:
            return jsonify({"error": str(exc)}), 404
    return jsonify({"object_id": object_id, "candidates": found})


@bp.post("/objects/<member_id>/merge/preview")
def preview(member_id: str):
    if not _authorized(member_id):
        return _refused()
    body = _body()
    if "_error" in body:
        return jsonify({"error": body["_error"]}), 400
    with current_services().session() as session:
        try:
            plan = window.preview(
                session, member_id, body["main_id"], body["duplicate_ids"], body["choices"]
            )
        except MergeError as exc:
            return jsonify({"error": str(exc)}), 422
    return jsonify(plan_dict(plan))


@bp.post("/objects/<member_id>/merge")
def merge(member_id: str):
    who = _caller(member_id)
    if who is None:
        return _refused()
    body = _body()
    if "_error" in body:
        return jsonify({"error": body["_error"]}), 400
    if body["main_id"] in body["duplicate_ids"]:
        return jsonify({"error": "основной объект не может быть своим дубликатом"}), 422
    req = MergeRequest(
        member_id,
        body["main_id"],
        tuple(body["duplicate_ids"]),
        body["choices"],
        who.user_id,
    )
    from app.queues import enqueue

    enqueue(
        current_services(),
        "sync",
        "app.objects.window.merge_objects",
        member_id,
        req.main_id,
        list(req.duplicate_ids),
        dict(req.choices),
        req.requested_by,
        job_id=f"merge-{req.key()[:40]}",
        description=f"merge_objects {member_id} {req.main_id}",
    )
    return jsonify({"key": req.key()}), 202


@bp.get("/objects/<member_id>/merge/<key>")
def journal(member_id: str, key: str):
    if not _authorized(member_id):
        return _refused()
    if len(key) > 128:
        return jsonify({"error": "not found"}), 404
    with current_services().session() as session:
        row = session.query(ObjectMerge).filter_by(key=key, member_id=member_id).one_or_none()
        if row is None:
            return jsonify({"error": "not found"}), 404
        out = {"state": row.state, "plan": row.plan, "steps": row.steps, "error": row.error}
    return jsonify(out)
