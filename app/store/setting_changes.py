"""The audit of playbook setting changes: who changed which setting of a portal, when, from
what to what. Written in the same transaction as the change itself
(``app.playbooks.settings.set_value`` / ``reset`` with an ``actor``), so a rolled-back save
leaves no audit line and a saved one always has its line. Shown on the app's settings page
(recent changes) and written by ``flask b24 settings --set/--reset`` (user "CLI").

Functions take a Session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base, UTCDateTime, utcnow

_ID = BigInteger().with_variant(Integer(), "sqlite")
RECENT = 20


@dataclass(frozen=True)
class Actor:
    """Who made a change: a portal user (id + name) or an operator command (user_id None)."""

    user_id: int | None
    name: str


CLI = Actor(None, "CLI")


class SettingChange(Base):
    __tablename__ = "setting_changes"
    __table_args__ = (Index("ix_setting_changes_member", "member_id", "id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64))
    playbook: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    user_id: Mapped[int | None] = mapped_column(_ID, nullable=True)
    user_name: Mapped[str] = mapped_column(String(255), default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def record(
    session: Session, member_id: str, playbook: str, key: str, old: Any, new: Any, actor: Actor
) -> SettingChange:
    """Add one audit line (the caller's transaction commits it with the change). A secret
    (an SMS provider's key) is recorded as changed, never by value."""
    from app.channels.settings import SECRET_KEYS

    if key in SECRET_KEYS:
        old, new = ("***" if old else None), ("***" if new else None)
    row = SettingChange(
        member_id=member_id,
        playbook=playbook,
        key=key,
        old_value=old,
        new_value=new,
        user_id=actor.user_id,
        user_name=(actor.name or "")[:255],
        changed_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def recent(session: Session, member_id: str, limit: int = RECENT) -> list[SettingChange]:
    """The portal's latest changes, newest first."""
    q = (
        select(SettingChange)
        .where(SettingChange.member_id == member_id)
        .order_by(SettingChange.id.desc())
        .limit(limit)
    )
    return list(session.scalars(q))
