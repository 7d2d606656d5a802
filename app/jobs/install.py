"""Install jobs: ``install_portal`` (playbooks onto a portal) and ``confirm_app_event``.

``install_portal(member_id)`` runs the installer written in ``app.installers.run``
(``install_playbooks(services, member_id, playbook_names, progress=callback)``), writing
progress to the installation row so the installer page can show it. When the installer
package is missing it records "installer not available" and raises.

``confirm_app_event(member_id, stash_id)`` verifies an ONAPPINSTALL/ONAPPUPDATE whose
application_token could not be checked against a stored one (first token, or rotated on
update): the event's access_token must be our app's admin token on the installation's
stored, allow-listed domain. ``confirm_uninstall(member_id)`` confirms an ONAPPUNINSTALL
with the portal before anything is wiped. The payload waits in Redis under a random id (never in job args, so
tokens never reach RQ's job descriptions or logs).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from app.store import installations
from app.sync.intake import same_host
from config.logging import log_context, redact

log = logging.getLogger(__name__)

STASH_TTL_S = 24 * 3600
INSTALLER_MODULES = ("app.installers", "app.installers.run")


def stash_key(member_id: str, stash_id: str) -> str:
    return f"b24:lifecycle:{member_id}:{stash_id}"


def _progress(svc, member_id: str, text: str, error: str | None = None) -> None:
    from app.jobs import install_steps

    with svc.session.begin() as session:
        installations.set_progress(session, member_id, text, error=error)
    install_steps.add(svc.redis, member_id, f"{text} — {error}" if error else text)


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
        # one line at the start as at the end: with RQ's per-job lines at DEBUG, the log
        # otherwise shows no install in progress
        log.info("installing playbooks: %s", names)
        from app.jobs import install_steps

        install_steps.clear(svc.redis, member_id)
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
            resumed = (0, 0)
            if row.status != "uninstalled":
                row.status = "active"
                resumed = _resume_timers(session, member_id)  # a reinstall in time resumes
            row.install_progress, row.last_error = "done", ""
        install_steps.add(svc.redis, member_id, "done")
        log.info("playbooks installed: %s; timers resumed/expired: %s", names, resumed)
        return {"outcome": "ok", "playbooks": names, "result": _plain(result)}


def _plain(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _version(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def _proves_update(info: dict, event: dict, stored_version: str | None) -> bool:
    """A rotated ONAPPUPDATE token is believed only if app.info reports the version the event
    names and it is newer than the one we know: an update really happened."""
    reported = _version(info.get("VERSION"))
    claimed = _version((event.get("data") or {}).get("VERSION"))
    known = _version(stored_version)
    if reported is None or (claimed is not None and claimed != reported):
        return False
    return known is None or reported > known


def _stored_domain_and_version(svc: Any, member_id: str) -> tuple[str | None, str | None]:
    with svc.session() as session:
        row = installations.get(session, member_id)
        return (row.domain, row.app_version) if row is not None else (None, None)


def _after_address_check(svc: Any, member_id: str) -> tuple[str | None, str | None]:
    """Refresh the stored tokens at the stored OAuth server, whose answer names the portal's
    current address (adopted by the refresher: app.portal.refresh), then read the stored
    domain again. A portal that cannot be refreshed keeps its domain: the caller refuses."""
    from app.portal.errors import PortalError, is_retryable

    try:
        svc.portal(member_id).refresh_now()
    except PortalError as exc:
        if is_retryable(exc):
            raise  # the OAuth server did not answer: RQ retries the confirmation
        log.warning("address check failed: %s", exc)
    return _stored_domain_and_version(svc, member_id)


def confirm_app_event(member_id: str, stash_id: str) -> dict[str, Any]:
    """Verify a stashed ONAPPINSTALL/ONAPPUPDATE with the portal, then store what it carries.

    The event's access_token must be OUR app's (``app.info`` CODE = ``B24_CLIENT_ID``,
    api-reference/common/system/app-info.md) and its user an administrator (``user.admin``,
    api-reference/common/users/user-admin.md); an update must also be real (app.info reports
    the new VERSION). With client credentials the event's refresh token is exchanged at the
    OAuth server (settings/oauth/index.md), whose answer must name this member_id: the
    stored tokens are then the ones the OAuth server issued, not the ones the event claimed.
    """
    from app import services
    from app.portal.errors import TransportError
    from app.queues import enqueue
    from app.security import VerificationFailed, bind_member_id, verify_token_on_portal

    svc = services.current()
    with log_context(member_id):
        raw = svc.redis.get(stash_key(member_id, stash_id))
        if raw is None:
            return {"outcome": "expired"}
        event = json.loads(raw)
        auth = event.get("auth") or {}
        name = event.get("event")
        domain, stored_version = _stored_domain_and_version(svc, member_id)
        if domain is not None and not same_host(domain, str(auth.get("domain") or "")):
            # a renamed portal names its new domain: learn the address the verified way (a
            # refresh at the stored OAuth server) and compare again; never call the claim
            domain, stored_version = _after_address_check(svc, member_id)
        if domain is None or not same_host(domain, str(auth.get("domain") or "")):
            svc.redis.delete(stash_key(member_id, stash_id))
            log.warning("%s refused: its domain is not the portal's", name)
            return {"outcome": "refused"}
        try:
            info = verify_token_on_portal(
                svc.settings, domain, auth.get("access_token"), require_admin=True
            )
            if name == "ONAPPUPDATE" and not _proves_update(info, event, stored_version):
                raise VerificationFailed("app.info reports no newer version: no update happened")
            tokens = _exchanged(svc.settings, member_id, auth, bind_member_id)
        except VerificationFailed as exc:
            if not exc.reachable:
                raise TransportError("UNREACHABLE", str(exc)) from None  # retried by RQ
            svc.redis.delete(stash_key(member_id, stash_id))
            log.warning("%s not confirmed: %s", name, exc)
            return {"outcome": "refused"}
        with svc.session.begin() as session:
            installations.upsert_verified(
                session,
                member_id,
                application_token=auth.get("application_token"),
                scopes=auth.get("scope") or None,
                user_id=str(auth["user_id"]) if auth.get("user_id") else None,
                app_version=str(info.get("VERSION") or "") or None,
                **tokens,
            )
        svc.redis.delete(stash_key(member_id, stash_id))
        log.info("%s confirmed with the portal; application token stored", name)
        if name == "ONAPPUPDATE":
            # the portal deleted our robots on update: run the installer again
            enqueue(svc, "sync", "app.jobs.install.install_portal", member_id)
        return {"outcome": "confirmed"}


def _exchanged(settings, member_id: str, auth: dict, bind_member_id) -> dict[str, Any]:
    """The OAuth tokens to store for a confirmed event (see :func:`confirm_app_event`)."""
    from app.security import VerificationFailed

    if not (settings.b24_client_id and settings.b24_client_secret):
        return {
            "access_token": auth.get("access_token"),
            "refresh_token": auth.get("refresh_token"),
            "expires_at": auth.get("expires") or None,
        }
    body = bind_member_id(settings, auth.get("server_endpoint"), auth.get("refresh_token"))
    if body.get("member_id") != member_id:
        raise VerificationFailed("the OAuth server names another portal")
    return {
        "access_token": body["access_token"],
        "refresh_token": body.get("refresh_token"),
        "expires_at": body.get("expires") or None,
    }


def confirm_uninstall(member_id: str) -> dict[str, Any]:
    """An ONAPPUNINSTALL with the right application token: is the app really gone?

    "When an application is uninstalled, all access permissions for the application to the
    API are removed" (api-reference/common/events/on-app-uninstall.md). So ``app.info`` is
    called with OUR stored token (refreshed by the gateway if it expired): if the portal
    still answers it for our app, the event was forged and nothing changes. If the portal
    refuses the token (and its refresh), the uninstall is real: tokens are wiped and open
    timers are paused (``app.timers.service.pause_all_for_portal``) in one transaction.
    Transport trouble raises (RQ retries); without client credentials an expired token
    cannot be told from a revoked one, so nothing is wiped (fail safe) and it is logged.
    """
    from app import services
    from app.portal import client_for
    from app.portal.errors import (
        AccessDenied,
        HostNotAllowed,
        PortalGone,
        TokenExpired,
        TokenInvalid,
    )
    from app.security import is_our_app

    svc = services.current()
    with log_context(member_id):
        with svc.session() as session:
            row = installations.get(session, member_id)
            if row is None or row.status == "uninstalled":
                return {"outcome": "skipped"}
        try:
            info = client_for(member_id, svc).call("app.info", {}, priority="events")
        except HostNotAllowed:
            raise  # our configuration, not the portal's answer: prove nothing
        except (TokenInvalid, PortalGone, AccessDenied) as exc:
            # app.info may be called by any user of an installed app: a refusal means the
            # app's access is gone
            log.info("uninstall confirmed: the portal refuses our token (%s)", exc.code)
        except TokenExpired as exc:
            if exc.code != "NO_CLIENT_SECRET":
                raise
            log.warning("ONAPPUNINSTALL not confirmable without client credentials; kept")
            return {"outcome": "unconfirmed"}
        else:
            if isinstance(info, dict) and is_our_app(info, svc.settings):
                log.warning("ONAPPUNINSTALL refused: the app still works on the portal (forged)")
                return {"outcome": "refused"}
            log.info("uninstall confirmed: app.info no longer describes our app")
        with svc.session.begin() as session:  # one transaction: both or neither
            installations.deactivate(session, member_id)
            paused = _pause_timers(session, member_id)
        log.info("uninstalled: tokens wiped, %s timer(s) paused", paused)
        return {"outcome": "uninstalled", "paused": paused}


def _pause_timers(session, member_id: str) -> int:
    try:
        from app.timers.service import pause_all_for_portal
    except ModuleNotFoundError as exc:
        if exc.name not in ("app.timers", "app.timers.service"):
            raise
        return 0
    return pause_all_for_portal(session, member_id, "app uninstalled")


def _resume_timers(session, member_id: str) -> tuple[int, int]:
    try:
        from app.timers.service import resume_paused
    except ModuleNotFoundError as exc:
        if exc.name not in ("app.timers", "app.timers.service"):
            raise
        return 0, 0
    return resume_paused(session, member_id)
