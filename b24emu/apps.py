"""App lifecycle: register, install (installer frame POST or ONAPPINSTALL), update, uninstall.

``install`` stands in for an admin opening the app: it POSTs the §3.2 frame form to the
installer URL; a 2xx answer whose HTML contains ``installFinish`` counts as the browser running
``BX24.installFinish()``. API-only apps (``install_event_url``) are installed at once and get
``ONAPPINSTALL`` through an installer binding, as ``CRestUtil::InstallApp`` does.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import urlencode

from b24emu import events, oauth
from b24emu.core_state import App, Binding
from b24emu.state import Portal

DEFAULT_SCOPES = ["crm", "bizproc", "placement", "user_brief", "task", "im", "department", "user"]


def application_token(portal: Portal, app: App) -> str:
    """md5(member_id|app id|secret|shared key) — plus the rotation generation after updates."""
    parts = [portal.member_id, str(app.id), app.client_secret, portal.core.config.shared_key]
    if app.token_generation:
        parts.append(str(app.token_generation))
    return events.md5("|".join(parts))


def register_app(portal: Portal, **spec: Any) -> App:
    """Create a local app (``client_id`` like ``local.{hex}.{digits}``) from ``spec`` keys:
    client_id, client_secret, scopes, version, handler_url, installer_url, install_event_url,
    redirect_uri, code."""
    core = portal.core
    app_id = core.next_id()
    client_id = (
        spec.get("client_id") or f"local.{secrets.token_hex(7)}.{secrets.randbelow(10**8):08d}"
    )
    if client_id in core.apps:
        raise ValueError(f"app {client_id} already registered")
    scopes = spec.get("scopes") or DEFAULT_SCOPES
    if isinstance(scopes, str):
        scopes = [s.strip() for s in scopes.split(",") if s.strip()]
    app = App(
        id=app_id,
        client_id=client_id,
        client_secret=spec.get("client_secret") or secrets.token_urlsafe(32),
        scopes=list(scopes),
        version=int(spec.get("version") or 1),
        handler_url=spec.get("handler_url"),
        installer_url=spec.get("installer_url"),
        install_event_url=spec.get("install_event_url"),
        redirect_uri=spec.get("redirect_uri"),
        code=spec.get("code") or client_id,
    )
    core.apps[client_id] = app
    return app


def app_dict(app: App) -> dict[str, Any]:
    return {
        "id": app.id,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "scopes": app.scopes,
        "version": app.version,
        "handler_url": app.handler_url,
        "installer_url": app.installer_url,
        "install_event_url": app.install_event_url,
        "installed": app.installed,
        "present": app.present,
        "application_token": app.application_token,
    }


def frame_form(
    portal: Portal,
    app: App,
    user_id: int,
    placement: str = "DEFAULT",
    options: Any = None,
    with_application_token: bool = True,
) -> tuple[dict[str, str], dict[str, str]]:
    """(query, body) of the browser form POST into the app frame (§3.2).

    ``with_application_token=False`` posts the form of older portal builds, which carry no
    ``APPLICATION_TOKEN``/``APPLICATION_SCOPE`` (the app must then verify ``AUTH_ID``)."""
    token = oauth.issue_tokens(portal, app.client_id, user_id, app.scopes)
    query = {
        "DOMAIN": portal.domain,
        "PROTOCOL": "1" if portal.scheme == "https" else "0",
        "LANG": portal.core.config.language,
        "APP_SID": secrets.token_hex(16),
    }
    body = {
        "AUTH_ID": token.access_token,
        "AUTH_EXPIRES": str(portal.core.config.access_token_lifetime),
        "REFRESH_ID": token.refresh_token,
        "SERVER_ENDPOINT": oauth.server_endpoint(portal),
        "APPLICATION_TOKEN": app.application_token or "",
        "APPLICATION_SCOPE": ",".join(app.scopes),
        "member_id": portal.member_id,
        "status": portal.core.config.app_status,
        "PLACEMENT": placement,
        "PLACEMENT_OPTIONS": json.dumps(options if options is not None else {}, ensure_ascii=False),
    }
    if not with_application_token:
        del body["APPLICATION_TOKEN"], body["APPLICATION_SCOPE"]
    return query, body


async def open_frame(
    portal: Portal,
    app: App,
    url: str,
    user_id: int = 1,
    placement: str = "DEFAULT",
    options: Any = None,
    with_application_token: bool = True,
) -> dict[str, Any]:
    """POST the frame form to ``url`` and wait for the answer (like a browser would)."""
    query, body = frame_form(portal, app, user_id, placement, options, with_application_token)
    sep = "&" if "?" in url else "?"
    delivery = portal.runtime.outbox.record(
        "frame", f"{url}{sep}{urlencode(query)}", placement, body, app.client_id
    )
    status, text = await portal.runtime.outbox.send(delivery)
    return {"status": status, "body": text[:20000], "delivery_id": delivery.id}


def _install_event_data(app: App, portal: Portal) -> dict[str, str]:
    return {
        "VERSION": str(app.version),
        "ACTIVE": "Y",
        "INSTALLED": "Y",
        "LANGUAGE_ID": portal.core.config.language,
    }


def finish_install(portal: Portal, app: App) -> None:
    """What ``BX24.installFinish()`` does: mark installed, then ONAPPINSTALL goes out."""
    if app.installed:
        return
    app.installed = True
    events.emit_app(
        portal, app, "ONAPPINSTALL", _install_event_data(app, portal), app.installing_user
    )


async def install(portal: Portal, client_id: str, user_id: int = 1) -> dict[str, Any]:
    """Install ``client_id`` as admin ``user_id``; returns what happened (for /_emu/)."""
    app = begin_install(portal, client_id, user_id)
    outcome: dict[str, Any] = {"client_id": client_id}
    if app.installer_url:
        frame = await open_frame(portal, app, app.installer_url, user_id)
        outcome["installer"] = {"status": frame["status"], "delivery_id": frame["delivery_id"]}
        if (
            frame["status"] is not None
            and 200 <= frame["status"] < 300
            and "installFinish" in frame["body"]
        ):
            finish_install(portal, app)
    else:
        finish_install(portal, app)
    outcome["installed"] = app.installed
    outcome["application_token"] = app.application_token
    return outcome


def begin_install(portal: Portal, client_id: str, user_id: int = 1) -> App:
    """What the portal does when an admin starts installing ``client_id``, before the
    installer frame opens: the app is present, not yet installed (events wait for
    ``installFinish``), its application token is set, the installer binding exists."""
    app = portal.core.apps[client_id]
    app.present = True
    app.installed = False  # (re)install: events wait for installFinish again
    app.installing_user = user_id
    app.application_token = application_token(portal, app)
    installer_bound = any(
        b.client_id == app.client_id
        and b.event == "ONAPPINSTALL"
        and b.handler == app.install_event_url
        for b in portal.core.bindings
    )
    if app.install_event_url and not installer_bound:  # reinstalling must not double it
        portal.core.bindings.append(
            Binding(
                id=portal.core.next_id(),
                client_id=app.client_id,
                event="ONAPPINSTALL",
                handler=app.install_event_url,
                auth_type=user_id,
            )
        )
    return app


def _drop_robots(portal: Portal, client_id: str) -> None:
    core = portal.core
    for key in [k for k in core.robots if k[0] == client_id]:
        del core.robots[key]
    core.robot_placements = [p for p in core.robot_placements if p.client_id != client_id]


def update(portal: Portal, client_id: str, version: int | None = None) -> dict[str, Any]:
    """New version installed: robots wiped, installer binding dropped, ONAPPUPDATE fired."""
    core = portal.core
    app = core.apps[client_id]
    previous = app.version
    app.version = int(version) if version else previous + 1
    _drop_robots(portal, client_id)
    core.bindings = [
        b for b in core.bindings if not (b.client_id == client_id and b.event == "ONAPPINSTALL")
    ]
    if core.config.rotate_application_token_on_update:
        app.token_generation += 1
        app.application_token = application_token(portal, app)
    data = {
        "VERSION": str(app.version),
        "PREVIOUS_VERSION": str(previous),
        "LANGUAGE_ID": core.config.language,
    }
    events.emit_app(portal, app, "ONAPPUPDATE", data, app.installing_user)
    return {
        "client_id": client_id,
        "version": app.version,
        "previous_version": previous,
        "application_token": app.application_token,
    }


def uninstall(portal: Portal, client_id: str, clean: bool = True) -> dict[str, Any]:
    """ONAPPUNINSTALL (no tokens), then bindings/placements/robots removed and tokens revoked."""
    core = portal.core
    app = core.apps[client_id]
    events.emit_app(
        portal,
        app,
        "ONAPPUNINSTALL",
        {"LANGUAGE_ID": core.config.language, "CLEAN": 1 if clean else 0},
        None,
    )
    core.bindings = [b for b in core.bindings if b.client_id != client_id]
    core.placements = [p for p in core.placements if p.client_id != client_id]
    events.drop_offline(portal, [r for r in core.offline if r.client_id == client_id])
    _drop_robots(portal, client_id)
    if clean:
        app.options.clear()
        for key in [k for k in core.user_options if k[0] == client_id]:
            del core.user_options[key]
    oauth.revoke_app_tokens(portal, client_id)
    app.present = False
    app.installed = False
    return {"client_id": client_id, "uninstalled": True, "clean": clean}
