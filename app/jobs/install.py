"""Install jobs: ``install_portal`` (playbooks onto a portal) and ``confirm_app_event``.

``install_portal(member_id)`` runs the installer written in ``app.installers.run``
(``install_playbooks(services, member_id, playbook_names, progress=callback)``), writing
progress to the installation row so the installer page can show it. When the installer
package is missing it records "installer not available" and raises.

``confirm_app_event(member_id, stash_id)`` verifies an ONAPPINSTALL/ONAPPUPDATE whose
application_token could not be checked against a stored one (first token, or rotated on
update): the event's access_token must pass ``app.info`` on the installation's stored,
allow-listed domain. The payload waits in Redis under a random id (never in job args, so
tokens never reach RQ's job descriptions or logs).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from app.store import installations
from config.logging import log_context, redact

log = logging.getLogger(__name__)

STASH_TTL_S = 24 * 3600
INSTALLER_MODULES = ("app.installers", "app.installers.run")


def stash_key(member_id: str, stash_id: str) -> str:
    return f"b24:lifecycle:{member_id}:{stash_id}"


def _progress(svc, member_id: str, text: str, error: str | None = None) -> None:
    with svc.session.begin() as session:
        installations.set_progress(session, member_id, text, error=error)


def install_portal(member_id: str) -> dict[str, Any]:
    """Install the portal's playbooks; status ``active`` on success, raises on failure."""
    from app import services

    svc = services.current()
    with log_context(member_id):
        with svc.session() as session:
            row = installations.get(session, member_id)
            if row is None:
                raise installations.InstallationNotFound(member_id)
            if row.status == "uninstalled":
                log.info("install skipped: installation is uninstalled")
                return {"outcome": "skipped"}
            names = list(row.playbooks or svc.settings.playbooks)
        _progress(svc, member_id, f"installing playbooks: {', '.join(names)}", error="")
        try:
            from app.installers.run import install_playbooks
        except ModuleNotFoundError as exc:
            if exc.name not in INSTALLER_MODULES:
                raise
            _progress(svc, member_id, "installer not available", error="installer not available")
            raise RuntimeError("installer not available: app.installers.run is missing") from exc

        def progress(text: str) -> None:
            _progress(svc, member_id, str(text))

        try:
            result = install_playbooks(svc, member_id, names, progress=progress)
        except Exception as exc:
            _progress(svc, member_id, "failed", error=redact(f"{type(exc).__name__}: {exc}"))
            raise
        with svc.session.begin() as session:
            row = installations.get(session, member_id)
            if row.status != "uninstalled":
                row.status = "active"
            row.install_progress, row.last_error = "done", ""
        log.info("playbooks installed: %s", names)
        return {"outcome": "ok", "playbooks": names, "result": _plain(result)}


def _plain(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def confirm_app_event(member_id: str, stash_id: str) -> dict[str, Any]:
    """Verify a stashed lifecycle event with app.info, then store what it carries."""
    from app import services
    from app.portal.errors import TransportError
    from app.queues import enqueue
    from app.security import VerificationFailed, verify_token_on_portal

    svc = services.current()
    with log_context(member_id):
        raw = svc.redis.get(stash_key(member_id, stash_id))
        if raw is None:
            return {"outcome": "expired"}
        event = json.loads(raw)
        auth = event.get("auth") or {}
        with svc.session() as session:
            row = installations.get(session, member_id)
            domain = row.domain if row is not None else None
        if domain is None or (auth.get("domain") or "").lower() != domain:
            svc.redis.delete(stash_key(member_id, stash_id))
            return {"outcome": "refused"}
        try:
            info = verify_token_on_portal(svc.settings, domain, auth.get("access_token"))
        except VerificationFailed as exc:
            if not exc.reachable:
                raise TransportError("UNREACHABLE", str(exc)) from None  # retried by RQ
            svc.redis.delete(stash_key(member_id, stash_id))
            log.warning("%s not confirmed: %s", event.get("event"), exc)
            return {"outcome": "refused"}
        with svc.session.begin() as session:
            installations.upsert_verified(
                session,
                member_id,
                application_token=auth.get("application_token"),
                access_token=auth.get("access_token"),
                refresh_token=auth.get("refresh_token"),
                expires_at=auth.get("expires") or None,
                scopes=auth.get("scope") or None,
                user_id=str(auth["user_id"]) if auth.get("user_id") else None,
                app_version=str(
                    info.get("VERSION") or (event.get("data") or {}).get("VERSION") or ""
                )
                or None,
            )
        svc.redis.delete(stash_key(member_id, stash_id))
        log.info("%s confirmed with app.info; application token stored", event.get("event"))
        if event.get("event") == "ONAPPUPDATE":
            # the portal deleted our robots on update: run the installer again
            enqueue(svc, "sync", "app.jobs.install.install_portal", member_id)
        return {"outcome": "confirmed"}
