"""What the installer knows about each portal's configuration: stable code → real id/name.

One row per (portal, kind, code). ``owned`` is True when the app created the object (so
uninstall may remove it and plan may rename/re-sort it); False when an existing object was
adopted. ``meta`` holds kind-specific extras (entityTypeId, enum option ids, fingerprints).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base, UTCDateTime, utcnow

KINDS = ("type", "category", "stage", "field", "robot", "event", "placement")


class SchemaObject(Base):
    __tablename__ = "schema_objects"
    __table_args__ = (UniqueConstraint("member_id", "kind", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(200))
    real_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    real_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    owned: Mapped[bool] = mapped_column(Boolean, default=False)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


@dataclass(frozen=True)
class Known:
    """A store row as a plain value (what plan() takes; no session needed)."""

    kind: str
    code: str
    real_id: str | None = None
    real_name: str | None = None
    owned: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


def load(session: Session, member_id: str) -> dict[tuple[str, str], Known]:
    """Everything known about ``member_id``, keyed by (kind, code)."""
    rows = session.scalars(select(SchemaObject).where(SchemaObject.member_id == member_id))
    return {
        (r.kind, r.code): Known(r.kind, r.code, r.real_id, r.real_name, r.owned, dict(r.meta or {}))
        for r in rows
    }


def record(session: Session, member_id: str, items: Iterable[Known]) -> None:
    """Upsert rows. Ownership is sticky: once the app created an object it stays ours."""
    for item in items:
        row = session.scalar(
            select(SchemaObject).where(
                SchemaObject.member_id == member_id,
                SchemaObject.kind == item.kind,
                SchemaObject.code == item.code,
            )
        )
        if row is None:
            row = SchemaObject(member_id=member_id, kind=item.kind, code=item.code, owned=False)
            session.add(row)
        same_object = row.real_id in (None, item.real_id) or item.real_id is None
        row.owned = item.owned or (bool(row.owned) and same_object)
        if item.real_id is not None:
            row.real_id = item.real_id
        if item.real_name is not None:
            row.real_name = item.real_name
        row.meta = {**(row.meta or {}), **item.meta}
    session.flush()


def forget(session: Session, member_id: str, keys: Iterable[tuple[str, str]]) -> None:
    for kind, code in keys:
        session.execute(
            delete(SchemaObject).where(
                SchemaObject.member_id == member_id,
                SchemaObject.kind == kind,
                SchemaObject.code == code,
            )
        )
    session.flush()
