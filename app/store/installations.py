"""Installations: one row per portal (``member_id``), OAuth tokens or a webhook URL.

Secrets in this table (``access_token``, ``refresh_token``, ``application_token``,
``webhook_url``) are never logged and never part of ``repr``.

Interfaces other parts rely on:

* module functions taking a Session: :func:`get`, :func:`get_by_domain`,
  :func:`upsert_verified`, :func:`set_progress`, :func:`deactivate`;
* :class:`SqlTokenStore` — the gateway's token protocol (``load``, ``save_tokens``,
  ``mark_needs_reinstall``), returning frozen :class:`Credentials`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base, UTCDateTime, utcnow

STATUSES = ("installing", "active", "needs_reinstall", "uninstalled")
AUTH_MODES = ("oauth", "webhook")
_SECRETS = ("access_token", "refresh_token", "application_token", "webhook_url")


class Installation(Base):
    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    domain: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    client_endpoint: Mapped[str | None] = mapped_column(String(500))
    server_endpoint: Mapped[str | None] = mapped_column(String(500))
    auth_mode: Mapped[str] = mapped_column(String(16), nullable=False, default="oauth")
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    access_token: Mapped[str | None] = mapped_column(String(500))
    refresh_token: Mapped[str | None] = mapped_column(String(500))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    application_token: Mapped[str | None] = mapped_column(String(128))
    scopes: Mapped[str | None] = mapped_column(String(1000))
    app_version: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), nullable=False, default="installing")
    user_id: Mapped[str | None] = mapped_column(String(32))
    playbooks: Mapped[list[str] | None] = mapped_column(JSON)
    playbook_settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    install_progress: Mapped[str | None] = mapped_column(Text)
    # "ru" / "en": the portal's language at install time (app.installers.language)
    lang: Mapped[str | None] = mapped_column(String(8))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow
    )

    def __repr__(self) -> str:  # no secrets
        return (
            f"Installation(member_id={self.member_id!r}, domain={self.domain!r}, "
            f"auth_mode={self.auth_mode!r}, status={self.status!r})"
        )


@dataclass(frozen=True)
class Credentials:
    """What the gateway needs to call one portal. Secrets are hidden from ``repr``."""

    member_id: str
    domain: str
    client_endpoint: str | None
    server_endpoint: str | None
    auth_mode: str
    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    webhook_url: str | None = field(default=None, repr=False)
    status: str = "active"


class InstallationNotFound(LookupError):
    """No installation row for this member_id."""


def get(session: Session, member_id: str) -> Installation | None:
    """The installation of ``member_id`` (any status), or None."""
    return session.scalar(select(Installation).where(Installation.member_id == member_id))


def get_by_domain(session: Session, domain: str) -> Installation | None:
    """The most recently updated installation on ``domain`` (domains may move; member_id stays)."""
    stmt = (
        select(Installation)
        .where(Installation.domain == domain.lower())
        .order_by(Installation.updated_at.desc())
    )
    return session.scalars(stmt).first()


def to_datetime(value: Any) -> datetime | None:
    """Unix seconds (int/str) or an aware datetime → aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromtimestamp(int(float(value)), UTC)


def upsert_verified(session: Session, member_id: str, **values: Any) -> Installation:
    """Create or update the row of ``member_id`` with values that were VERIFIED on the portal.

    Callers must have proved the credentials (``app.info``/``profile`` answered) first; this
    function only writes. ``None`` values leave the stored value alone; ``expires_at`` may be
    unix seconds. The caller commits.
    """
    unknown = set(values) - set(Installation.__table__.columns.keys())
    if unknown:
        raise TypeError(f"unknown installation fields: {sorted(unknown)}")
    if "expires_at" in values:
        values["expires_at"] = to_datetime(values["expires_at"])
    if values.get("domain"):
        values["domain"] = values["domain"].lower()
    row = get(session, member_id)
    if row is None:
        row = Installation(member_id=member_id)
        session.add(row)
    for key, value in values.items():
        if value is not None:
            setattr(row, key, value)
    row.updated_at = utcnow()
    session.flush()
    return row


def set_progress(
    session: Session, member_id: str, progress: str, *, error: str | None = None
) -> None:
    """Record install progress (shown by the installer page); the caller commits."""
    row = get(session, member_id)
    if row is None:
        raise InstallationNotFound(member_id)
    row.install_progress = progress[:4000]
    if error is not None:
        row.last_error = error[:4000]
    row.updated_at = utcnow()


def deactivate(session: Session, member_id: str) -> bool:
    """Uninstall: status ``uninstalled``, every secret wiped. False when no row."""
    row = get(session, member_id)
    if row is None:
        return False
    for name in _SECRETS:
        setattr(row, name, None)
    row.expires_at = None
    row.status = "uninstalled"
    row.updated_at = utcnow()
    return True


def credentials_of(row: Installation) -> Credentials:
    return Credentials(
        member_id=row.member_id,
        domain=row.domain,
        client_endpoint=row.client_endpoint,
        server_endpoint=row.server_endpoint,
        auth_mode=row.auth_mode,
        access_token=row.access_token,
        refresh_token=row.refresh_token,
        expires_at=row.expires_at,
        webhook_url=row.webhook_url,
        status=row.status,
    )


class SqlTokenStore:
    """The gateway's token store over the installations table.

    ``load`` raises :class:`InstallationNotFound` for an unknown member_id and
    ``app.portal.errors.PortalGone`` for an uninstalled one; a ``needs_reinstall`` row is
    returned as is (``status`` tells) so the gateway can decide.
    """

    def __init__(self, sessions) -> None:
        self.sessions = sessions

    def load(self, member_id: str) -> Credentials:
        with self.sessions() as session:
            row = get(session, member_id)
            if row is None:
                raise InstallationNotFound(member_id)
            if row.status == "uninstalled":
                from app.portal.errors import PortalGone

                raise PortalGone("PORTAL_GONE", f"installation {member_id} is uninstalled")
            return credentials_of(row)

    def save_tokens(
        self,
        member_id: str,
        access_token: str,
        refresh_token: str,
        expires_at: Any,
        *,
        client_endpoint: str | None = None,
    ) -> None:
        """Store a refreshed pair (refresh tokens rotate: the old one is dead now); a new
        ``client_endpoint`` (the portal was renamed) replaces the endpoint and domain."""
        from app.portal.tokens import endpoint_change

        with self.sessions.begin() as session:
            row = get(session, member_id)
            if row is None:
                raise InstallationNotFound(member_id)
            for name, value in endpoint_change(client_endpoint).items():
                setattr(row, name, value)
            row.access_token = access_token
            row.refresh_token = refresh_token
            row.expires_at = to_datetime(expires_at)
            row.updated_at = utcnow()

    def mark_needs_reinstall(self, member_id: str, reason: str) -> None:
        with self.sessions.begin() as session:
            row = get(session, member_id)
            if row is None:
                raise InstallationNotFound(member_id)
            if row.status != "uninstalled":
                row.status = "needs_reinstall"
            row.last_error = reason[:4000]
            row.updated_at = utcnow()
