"""Jobs behind the settings page's enable/disable buttons: what ``flask b24 playbooks
add|remove`` does (``app.installers.playbook_set``), run by a worker with its progress on
the installation row and in the step log (``app.jobs.install_steps``), so the page shows it.

``add_playbook``: apply the installer's plan for the portal's set plus NAME; only when it
succeeded is NAME added to the installation (its rules start then, never half-way).
Conflicts or failed writes leave the set as it was, with the reason as the last error.
``remove_playbook``: stop NAME (records and field values stay; see the installer module).
A failed add stays *pending* (:func:`pending_add`) until it succeeds, so the page's retry
button runs that add again rather than only the playbooks already there.
"""

from __future__ import annotations

import logging
from typing import Any

from app.jobs import install_steps
from app.jobs.install import _progress
from config.logging import log_context, redact

log = logging.getLogger(__name__)
QUEUE = "sync"
ADD_JOB = "app.jobs.playbook_set.add_playbook"
REMOVE_JOB = "app.jobs.playbook_set.remove_playbook"
PENDING_TTL_S = 7 * 24 * 3600


def _pending_key(member_id: str) -> str:
    return f"b24:pages:pending-add:{member_id}"


def pending_add(redis, member_id: str) -> str | None:
    """The playbook whose add has not succeeded yet (None: nothing pending)."""
    raw = redis.get(_pending_key(member_id))
    return raw.decode() if isinstance(raw, bytes) else raw


def add_playbook(member_id: str, name: str) -> dict[str, Any]:
    """Install ``name`` next to the portal's playbooks, then start it."""
    from app import services
    from app.installers.playbook_set import (
        PlaybookSetError,
        installed,
        set_playbooks,
        with_added,
    )
    from app.installers.run import install_playbooks

    svc = services.current()
    with log_context(member_id):
        with svc.session() as session:
            current = installed(session, member_id)
        try:
            names = with_added(current, name)
        except PlaybookSetError as exc:
            _progress(svc, member_id, f"{name} not added", error=str(exc))
            return {"outcome": "refused"}
        install_steps.clear(svc.redis, member_id)
        svc.redis.set(_pending_key(member_id), name, ex=PENDING_TTL_S)
        _progress(svc, member_id, f"adding {name}: installing {', '.join(names)}", error="")
        try:
            summary = install_playbooks(
                svc, member_id, names, progress=lambda text: _progress(svc, member_id, str(text))
            )
        except Exception as exc:
            error = redact(f"{type(exc).__name__}: {exc}")
            _progress(svc, member_id, "failed", error=error)
            raise
        if summary["conflicts"]:
            _progress(svc, member_id, "failed", error="; ".join(summary["conflicts"]))
            return {"outcome": "conflicts", "conflicts": summary["conflicts"]}
        with svc.session.begin() as session:
            now = set_playbooks(session, member_id, names)
        svc.redis.delete(_pending_key(member_id))
        _progress(svc, member_id, "done", error="")
        log.info("playbook %s added; the portal runs %s", name, now)
        return {"outcome": "ok", "playbooks": now}


def remove_playbook(member_id: str, name: str) -> dict[str, Any]:
    """Stop ``name`` on the portal (records and field values stay)."""
    from app import services
    from app.installers.playbook_set import PlaybookSetError, apply_removal, plan_removal
    from app.installers.run import base_url

    svc = services.current()
    with log_context(member_id):
        install_steps.clear(svc.redis, member_id)
        with svc.session() as session:
            try:
                removal = plan_removal(session, member_id, name, base_url(svc))
            except PlaybookSetError as exc:
                _progress(svc, member_id, f"{name} not removed", error=str(exc))
                return {"outcome": "refused"}
        _progress(svc, member_id, f"removing {name}", error="")
        with svc.session() as session:
            report = apply_removal(session, svc.portal(member_id), member_id, removal)
        error = "; ".join(f"not unbound: {line}" for line in report.failed)
        _progress(svc, member_id, "done" if not error else "failed", error=error)
        log.info("playbook %s removed; %s timer(s) cancelled", name, report.cancelled_timers)
        return {"outcome": "ok" if not error else "partial", "playbooks": removal.remaining}
