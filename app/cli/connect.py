"""``flask --app wsgi b24 connect --webhook URL``: connect one portal in webhook mode.

Incoming webhooks (§2.1) have no member_id, no events and no application context. The
command checks the URL against the allow-list, proves it with ``profile`` and ``scope``,
stores a ``webhook`` installation under a deterministic member_id (sha1 of domain and user
id, so connecting the same webhook twice updates one row) and enqueues ``install_portal``.
``--application-token`` stores the token of an *outgoing* webhook so its events verify.

The two proving calls use plain ``requests`` (the gateway needs a stored installation to
build a client; here none exists yet), with a short timeout and no redirects.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

import click
import requests

from app.allowlist import is_allowed_portal
from app.store import installations

WEBHOOK = re.compile(r"^(https?://[^/]+)/rest/(\d+)/([^/]+)/?$")
TIMEOUT_S = 10


class ConnectError(click.ClickException):
    pass


def webhook_member_id(domain: str, user_id: str) -> str:
    """A stable id for a webhook installation (webhooks carry no member_id)."""
    return hashlib.sha1(f"webhook|{domain}|{user_id}".encode(), usedforsecurity=False).hexdigest()


def _call(base: str, method: str):
    try:
        resp = requests.post(f"{base}{method}", json={}, timeout=TIMEOUT_S, allow_redirects=False)
        body = resp.json()
    except (requests.RequestException, ValueError) as exc:
        raise ConnectError(f"{method}: the portal did not answer ({type(exc).__name__})") from None
    if resp.status_code != 200 or "result" not in body:
        code = body.get("error") if isinstance(body, dict) else ""
        raise ConnectError(f"{method} refused the webhook: HTTP {resp.status_code} {code}".strip())
    return body["result"]


def connect_webhook(
    services,
    url: str,
    *,
    playbooks: tuple[str, ...] | None = None,
    application_token: str | None = None,
    install: bool = True,
) -> str:
    """Verify and store a webhook installation; returns its member_id. Raises ConnectError."""
    match = WEBHOOK.match(url.strip())
    if not match:
        raise ConnectError("expected a webhook URL like https://PORTAL/rest/<user id>/<code>/")
    base = match.group(0).rstrip("/") + "/"
    domain = urlsplit(base).netloc.lower()
    if not is_allowed_portal(base, services.settings):
        raise ConnectError(f"portal {domain} is not on the allow-list (ALLOWED_PORTAL_DOMAINS)")
    profile = _call(base, "profile")
    scopes = _call(base, "scope")
    user_id = str(profile.get("ID") or match.group(2))
    member_id = webhook_member_id(domain, user_id)
    with services.session.begin() as session:
        installations.upsert_verified(
            session,
            member_id,
            domain=domain,
            client_endpoint=f"{urlsplit(base).scheme}://{domain}/rest/",
            auth_mode="webhook",
            webhook_url=base,
            user_id=user_id,
            scopes=",".join(scopes) if isinstance(scopes, list) else None,
            application_token=application_token,
            status="installing",
            install_progress="queued" if install else "connected",
            playbooks=list(playbooks or services.settings.playbooks),
        )
    if install:
        from app.queues import enqueue

        enqueue(services, "sync", "app.jobs.install.install_portal", member_id)
    return member_id


def register(group: click.Group) -> None:
    @group.command("connect")
    @click.option("--webhook", "webhook", required=True, help="incoming webhook URL")
    @click.option(
        "--playbooks", default=None, help="comma-separated playbooks (default: PLAYBOOKS)"
    )
    @click.option("--application-token", default=None, help="token of an outgoing webhook")
    @click.option("--no-install", is_flag=True, help="store only; do not run the installer")
    def connect(webhook, playbooks, application_token, no_install):
        """Connect a portal through an incoming webhook and install the playbooks."""
        from flask import current_app

        from config.settings import KNOWN_PLAYBOOKS

        services = current_app.extensions["services"]
        names = tuple(p.strip() for p in playbooks.split(",")) if playbooks else None
        if names and any(n not in KNOWN_PLAYBOOKS for n in names):
            raise ConnectError(f"unknown playbook in {names}; choose from {KNOWN_PLAYBOOKS}")
        member_id = connect_webhook(
            services,
            webhook,
            playbooks=names,
            application_token=application_token,
            install=not no_install,
        )
        click.echo(f"connected: member_id={member_id}")
        if not no_install:
            click.echo("installer enqueued; a worker (make run) applies the playbooks")
