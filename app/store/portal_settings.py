"""Per-portal overrides of playbook settings (the defaults live in the playbook data)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base, UTCDateTime, utcnow


class PortalSetting(Base):
    __tablename__ = "portal_settings"
    __table_args__ = (UniqueConstraint("member_id", "playbook", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), index=True)
    playbook: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    updated_at = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def overrides(session: Session, member_id: str, playbook: str) -> dict[str, Any]:
    rows = session.scalars(
        select(PortalSetting).where(
            PortalSetting.member_id == member_id, PortalSetting.playbook == playbook
        )
    )
    return {r.key: r.value for r in rows}


def put(session: Session, member_id: str, playbook: str, key: str, value: Any) -> None:
    row = session.scalar(
        select(PortalSetting).where(
            PortalSetting.member_id == member_id,
            PortalSetting.playbook == playbook,
            PortalSetting.key == key,
        )
    )
    if row is None:
        session.add(PortalSetting(member_id=member_id, playbook=playbook, key=key, value=value))
    else:
        row.value = value
    session.flush()


def drop(session: Session, member_id: str, playbook: str, key: str) -> None:
    session.execute(
        delete(PortalSetting).where(
            PortalSetting.member_id == member_id,
            PortalSetting.playbook == playbook,
            PortalSetting.key == key,
        )
    )
    session.flush()
