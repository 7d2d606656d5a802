"""APIs of the «Автоматизация» tab and the dry-run preview page (page bearer, admins only).

* ``POST /pages/<member_id>/timers/<id>/cancel`` — a portal admin cancels one of the app's
  open timers. The row goes to ``cancelled`` (the clock claims only ``pending`` rows and a
  fired job re-reads the state, so it never fires) and the cancel is audited on the timer's
  record with who did it.
* ``GET /pages/<member_id>/dry-run?playbook=NAME&days=N`` — what ``NAME`` would have done
  over the last ``N`` days of the mirror (``app.rules.dry_run``); nothing is written. At
  most ``PAGE_MAX_STEPS`` of the latest changes are replayed, one preview per portal at a
  time (429 while one runs).
"""

from __future__ import annotations

import re

from flask import Blueprint, g, jsonify, request

from app.handlers import services
from app.handlers.bounds import valid_id
from app.handlers.page_api import page_api, refuse
from app.ratelimit import guard
from app.store import audit
from app.timers import service as timers

bp = Blueprint("automation", __name__)
bp.before_request(guard("widgets"))

CANCEL_RULE = "app.timer_cancel"
DRY_RUN_LOCK_S = 300  # a crashed worker's lock goes by itself


@bp.post("/pages/<member_id>/timers/<int:timer_id>/cancel")
@page_api(admin=True)
def cancel_timer(member_id: str, timer_id: int):
    """Cancel one open timer of this portal, audited with the admin who did it."""
    who = g.viewer
    if valid_id(timer_id) is None:  # a huge id would overflow the store's integer
        return refuse(404, "Таймер не найден", "No such timer")
    with services().session() as session:
        row = timers.get(session, timer_id)
        if row is None or row.member_id != member_id:  # another portal's timer: not here
            return refuse(404, "Таймер не найден", "No such timer")
        reason = f"cancelled by portal user {who.user_id}"
        if not timers.cancel_by_id(session, timer_id, reason=reason):
            session.rollback()
            return refuse(409, "Таймер уже сработал или отменён", "The timer is no longer open")
        audit.record(
            session,
            member_id=member_id,
            entity=row.entity,
            record_id=row.record_id,
            rule=CANCEL_RULE,
            cause=f"user:{who.user_id}",
            action_type="cancel_timer",
            action={"timer_id": timer_id, "kind": row.kind, "by_user": who.user_id},
            status="done",
        )
        session.commit()
    return jsonify({"cancelled": timer_id})


@bp.get("/pages/<member_id>/dry-run")
@page_api(admin=True)
def dry_run(member_id: str):
    """The preview of ``?playbook=`` over ``?days=`` (1..365) as JSON."""
    from app.playbooks import NAMES
    from app.rules.dry_run import MAX_DAYS, PAGE_MAX_STEPS, preview_portal

    name = request.args.get("playbook", "")
    raw_days = request.args.get("days", "30")
    if name not in NAMES:
        return refuse(400, "Неизвестный сценарий", "Unknown playbook")
    if not re.fullmatch(r"[0-9]{1,3}", raw_days) or not 1 <= int(raw_days) <= MAX_DAYS:
        return refuse(
            400,
            f"Число дней — целое от 1 до {MAX_DAYS}",
            f"Days must be a whole number from 1 to {MAX_DAYS}",
        )
    # one preview at a time per portal: each holds a web worker (bounded by PAGE_MAX_STEPS)
    lock = f"b24:dry-run:running:{member_id}"
    if not services().redis.set(lock, "1", nx=True, ex=DRY_RUN_LOCK_S):
        return refuse(
            429,
            "Предпросмотр уже считается, подождите минуту",
            "A preview is already running; wait a minute",
        )
    try:
        report = preview_portal(services(), member_id, name, int(raw_days), PAGE_MAX_STEPS)
    finally:
        services().redis.delete(lock)
    return jsonify(report.as_dict())
