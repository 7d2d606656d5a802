"""The settings page's JSON API (``app.widgets.settings``), guarded by the page bearer.

* ``POST /pages/<member_id>/settings/<playbook>`` (admin): ``{"values": {key: raw},
  "reset": [key]}`` → every field checked first; one bad field → 422 ``{"errors": {key:
  message}}`` and nothing saved; else all changes in ONE transaction, each audited with the
  viewer (``app.store.setting_changes``) → 200 ``{"changed": {key: value}}``.
* ``POST /pages/<member_id>/playbooks/<name>/enable|disable`` (admin): enqueue the
  ``app.jobs.playbook_set`` job (what ``flask b24 playbooks add|remove`` does) → 202.
* ``POST /pages/<member_id>/install/retry`` (admin): enqueue the add that failed again, else
  ``install_portal`` (the portal's playbooks) → 202.
* ``GET /pages/<member_id>/install/status``: the install progress the page polls.

The playbook must be one the portal runs (404 otherwise). Messages follow ``?lang=en``.
"""

from __future__ import annotations

import re

from flask import Blueprint, g, jsonify, request

from app.handlers import services
from app.handlers.page_api import page_api, refuse
from app.playbooks import NAMES
from app.store.setting_changes import Actor

bp = Blueprint("settings_api", __name__)
_STEP = re.compile(r"^\[(\d+)/(\d+)\]")
NAME_TTL_S = 3600


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "ru"


def name_key(member_id: str, user_id: int) -> str:
    """Where the page leaves the viewer's name (from user.current) for the audit line."""
    return f"b24:pages:viewer-name:{member_id}:{user_id}"


def _actor() -> Actor:
    """The viewer as the audit names them: the name the page saw, else the people store."""
    who = g.viewer
    svc = services()
    raw = svc.redis.get(name_key(g.member_id, who.user_id))
    name = raw.decode() if isinstance(raw, bytes) else (raw or "")
    if not name:
        from app.store import people

        with svc.session() as session:
            row = people.get(session, g.member_id)
            user = (row.users if row else {}).get(str(who.user_id)) or {}
            name = str(user.get("name") or "")
    return Actor(who.user_id, name or f"#{who.user_id}")


def _installed(member_id: str) -> list[str]:
    from app.installers.playbook_set import installed

    with services().session() as session:
        return installed(session, member_id)


@bp.post("/pages/<member_id>/settings/<playbook>")
@page_api(admin=True)
def save_settings(member_id: str, playbook: str):
    from app.playbooks.settings_form import FormErrors, save

    if playbook not in _installed(member_id):
        return refuse(404, "Сценарий не установлен", "The playbook is not installed")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return refuse(400, "Ожидается JSON-объект", "A JSON object is expected")
    values, resets = body.get("values") or {}, body.get("reset") or []
    if not isinstance(values, dict) or not isinstance(resets, list):
        return refuse(400, "Неверный формат формы", "Malformed form")
    actor = _actor()
    try:
        with services().session.begin() as session:  # all fields or none
            changed = save(session, member_id, playbook, values, resets, actor, _lang())
    except FormErrors as exc:
        return jsonify({"errors": exc.errors}), 422
    from app.widgets.settings import history_rows

    with services().session() as session:
        history = history_rows(session, member_id, _lang())
    from app.playbooks.settings_form import SECRET_KEYS

    shown = {k: ("***" if k in SECRET_KEYS else v) for k, v in changed.items()}
    return jsonify({"changed": shown, "history": history})


def _enqueue(func: str, *args):
    """Queue the job and mark the install as queued, so the page's progress is this job's
    from now on (not the last one's "done")."""
    from app.intake import enqueue_or_keep
    from app.jobs import install_steps
    from app.store import installations

    svc = services()
    with svc.session.begin() as session:
        installations.set_progress(session, g.member_id, "queued", error="")
    install_steps.clear(svc.redis, g.member_id)
    install_steps.add(svc.redis, g.member_id, "queued")
    enqueue_or_keep(svc, g.member_id, "sync", func, *args)
    return jsonify({"enqueued": True}), 202


@bp.post("/pages/<member_id>/playbooks/<name>/<action>")
@page_api(admin=True)
def change_playbooks(member_id: str, name: str, action: str):
    from app.jobs.playbook_set import ADD_JOB, REMOVE_JOB

    if name not in NAMES or action not in ("enable", "disable"):
        return refuse(404, "Нет такого сценария", "No such playbook")
    current = _installed(member_id)
    if action == "enable" and name in current:
        return refuse(409, "Сценарий уже включён", "The playbook is already enabled")
    if action == "disable":
        if name not in current:
            return refuse(409, "Сценарий не включён", "The playbook is not enabled")
        if current == [name]:
            return refuse(
                409,
                "Это единственный сценарий портала: его нельзя отключить",
                "This is the portal's only playbook: it cannot be disabled",
            )
    return _enqueue(ADD_JOB if action == "enable" else REMOVE_JOB, member_id, name)


@bp.post("/pages/<member_id>/install/retry")
@page_api(admin=True)
def retry_install(member_id: str):
    from app.handlers.install import INSTALL_JOB
    from app.jobs.playbook_set import ADD_JOB, pending_add

    name = pending_add(services().redis, member_id)
    if name and name not in _installed(member_id):  # the add that failed, again
        return _enqueue(ADD_JOB, member_id, name)
    return _enqueue(INSTALL_JOB, member_id)


def status_of(svc, member_id: str) -> dict:
    """The install progress as the page shows it (also used to render the first view)."""
    from app.jobs import install_steps
    from app.store import installations

    with svc.session() as session:
        row = installations.get(session, member_id)
        progress = (row.install_progress or "") if row else ""
        error = (row.last_error or "") if row else ""
        state = row.status if row else ""
        playbooks = list(row.playbooks or ()) if row else []
    step = _STEP.match(progress)
    return {
        "progress": progress,
        "error": error,
        "status": state,
        "done": progress == "done",
        "failed": progress == "failed" or (bool(error) and progress != "done"),
        "step": [int(step.group(1)), int(step.group(2))] if step else None,
        "steps": [text for _, text in install_steps.read(svc.redis, member_id)],
        "playbooks": [n for n in NAMES if n in playbooks],
    }


@bp.get("/pages/<member_id>/install/status")
@page_api()
def install_status(member_id: str):
    return jsonify(status_of(services(), member_id))
