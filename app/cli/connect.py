"""``flask --app wsgi b24 connect --webhook URL``: connect one portal in webhook mode.

Incoming webhooks (§2.1) have no member_id, no events and no application context. The
command checks the URL against the allow-list, proves it with ``profile`` and ``scope``,
stores a ``webhook`` installation under a deterministic member_id (sha1 of domain and user
id, so connecting the same webhook twice updates one row) and enqueues ``install_portal``.
``--application-token`` with ``--member-id`` links an *outgoing* webhook: its events carry
the portal's own ``auth[member_id]`` (32 hex) and that token, and the inbox finds the
installation by that member_id. Incoming webhooks cannot reveal the member_id, so with an
outgoing webhook the installation is stored under the portal's member_id given by the
operator (it is in every event body the webhook sends); a token stored under the derived id
alone would never be found, so that combination is refused.

The two proving calls go through the gateway (``app.portal.client_from_parts`` over the
not-yet-stored credentials held in memory), so the allow-list, the shared rate limiter and
the error taxonomy apply; nothing is stored unless both succeed.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

import click

from app.allowlist import is_allowed_portal
from app.store import installations

WEBHOOK = re.compile(r"^(https?://[^/]+)/rest/(\d+)/([^/]+)/?$")
PORTAL_MEMBER_ID = re.compile(r"^[0-9a-f]{32}$")  # protocol: member_id is 32 lowercase hex


class ConnectError(click.ClickException):
    pass


def webhook_member_id(domain: str, user_id: str) -> str:
    """A stable id for a webhook installation (webhooks carry no member_id)."""
    return hashlib.sha1(f"webhook|{domain}|{user_id}".encode(), usedforsecurity=False).hexdigest()


def _gateway(services, member_id: str, domain: str, base: str):
    """A gateway client over the not-yet-stored webhook credentials (in memory)."""
    from app.allowlist import is_allowed_oauth_server
    from app.portal import MemoryTokenStore, client_from_parts
    from app.store.installations import Credentials

    creds = Credentials(
        member_id=member_id,
        domain=domain,
        client_endpoint=f"{urlsplit(base).scheme}://{domain}/rest/",
        server_endpoint=None,
        auth_mode="webhook",
        webhook_url=base,
        status="installing",
    )
    settings = services.settings
    return client_from_parts(
        MemoryTokenStore(creds),
        member_id,
        services.redis,
        settings,
        allow_portal=lambda url: is_allowed_portal(url, settings),
        allow_oauth=lambda url: is_allowed_oauth_server(url, settings),
    )


def _call(client, method: str):
    from app.portal.errors import PortalError

    try:
        return client.call(method, {}, priority="sync")
    except PortalError as exc:
        raise ConnectError(
            f"{method} refused the webhook: {exc.code or type(exc).__name__}"
        ) from None


def connect_webhook(
    services,
    url: str,
    *,
    playbooks: tuple[str, ...] | None = None,
    application_token: str | None = None,
    member_id: str | None = None,
    install: bool = True,
) -> str:
    """Verify and store a webhook installation; returns its member_id. Raises ConnectError.

    ``application_token`` (an outgoing webhook's) needs ``member_id``, the portal's own id
    as its events carry it; without an outgoing webhook the id is derived from the URL."""
    application_token = (application_token or "").strip() or None
    member_id = (member_id or "").strip().lower() or None
    if member_id is not None and not PORTAL_MEMBER_ID.match(member_id):
        raise ConnectError("--member-id must be the portal's member_id: 32 hex characters")
    if application_token is not None and member_id is None:
        raise ConnectError(
            "--application-token needs --member-id: the outgoing webhook's events are "
            "matched by the portal's member_id (auth[member_id] in any event it sends)"
        )
    match = WEBHOOK.match(url.strip())
    if not match:
        raise ConnectError("expected a webhook URL like https://PORTAL/rest/<user id>/<code>/")
    base = match.group(0).rstrip("/") + "/"
    domain = urlsplit(base).netloc.lower()
    if not is_allowed_portal(base, services.settings):
        raise ConnectError(f"portal {domain} is not on the allow-list (ALLOWED_PORTAL_DOMAINS)")
    user_id = match.group(2)
    member_id = member_id or webhook_member_id(domain, user_id)
    client = _gateway(services, member_id, domain, base)
    profile = _call(client, "profile")
    scopes = _call(client, "scope")
    if str((profile or {}).get("ID")) != user_id:
        raise ConnectError("profile answered for another user than the webhook's")
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
    @click.option(
        "--member-id",
        default=None,
        help="the portal's member_id (auth[member_id] of the outgoing webhook's events)",
    )
    @click.option("--no-install", is_flag=True, help="store only; do not run the installer")
    def connect(webhook, playbooks, application_token, member_id, no_install):
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
            member_id=member_id,
            install=not no_install,
        )
        click.echo(f"connected: member_id={member_id}")
        if not no_install:
            click.echo("installer enqueued; a worker (make run) applies the playbooks")
