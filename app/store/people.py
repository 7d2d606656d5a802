"""The portal's people and clock as last read: names by user id, and the portal's UTC offset.

One row per portal (``portal_people``), written by :mod:`app.people` from ``user.get`` and
``server.time``; read by every page, report and CLI table that shows a person or a time,
so none of them calls the portal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base, UTCDateTime


class PortalPeople(Base):
    __tablename__ = "portal_people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # {"7": {"name": "Иван Петров", "time_zone": "Europe/Moscow", "active": true}, ...}
    users: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    utc_offset: Mapped[str | None] = mapped_column(String(8))  # "+03:00" from server.time
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


def get(session: Session, member_id: str) -> PortalPeople | None:
    return session.scalar(select(PortalPeople).where(PortalPeople.member_id == member_id))


def put(
    session: Session,
    member_id: str,
    users: dict[str, Any],
    utc_offset: str | None,
    now: datetime,
) -> PortalPeople:
    """Replace the portal's row (the caller commits).

    Two processes may read the people of a new portal at once (the web's first page and a
    worker's first job): the second insert then loses to the unique ``member_id``, inside a
    savepoint, and becomes an update of the row the first one wrote."""
    row = get(session, member_id)
    if row is None:
        try:
            with session.begin_nested():
                row = PortalPeople(member_id=member_id, users=users, fetched_at=now)
                session.add(row)
        except IntegrityError:
            row = get(session, member_id)
    row.users, row.fetched_at = users, now
    if utc_offset:
        row.utc_offset = utc_offset
    session.flush()
    return row
