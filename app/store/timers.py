"""Durable timers and the cached portal directory (departments, users) they notify.

A :class:`Timer` row is the truth about a timer: Redis only carries the job that fires it.
States: ``pending`` → (clock claims it) ``enqueued`` → ``fired`` | ``cancelled`` | ``failed``;
an ``enqueued`` row whose lease expired (its job vanished with Redis, or crashed) goes back
to ``pending``; a confirmed uninstall moves open rows to ``paused`` and a reinstall within
the retention window back to ``pending``. ``(member_id, key)`` is unique, so starting the same timer twice is a no-op.
The ``(state, due_at)`` index makes a clock tick cost what the due rows cost, not the table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.store.base import Base, UTCDateTime, utcnow

PENDING = "pending"
ENQUEUED = "enqueued"
FIRED = "fired"
CANCELLED = "cancelled"
FAILED = "failed"
PAUSED = "paused"  # the app was uninstalled (confirmed); a reinstall in time resumes it
STATES = (PENDING, ENQUEUED, FIRED, CANCELLED, FAILED, PAUSED)
OPEN_STATES = (PENDING, ENQUEUED)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
_ID = BigInteger().with_variant(Integer(), "sqlite")


class Timer(Base):
    __tablename__ = "timers"
    __table_args__ = (
        UniqueConstraint("member_id", "key"),
        Index("ix_timers_state_due_at", "state", "due_at"),
        Index("ix_timers_record", "member_id", "entity", "record_id", "kind"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), nullable=False)
    key: Mapped[str] = mapped_column(String(128), nullable=False)
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    record_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    cancel_on: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=PENDING)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return (
            f"Timer(id={self.id}, {self.member_id} {self.kind} {self.entity}:{self.record_id} "
            f"due={self.due_at:%Y-%m-%dT%H:%M:%S} {self.state})"
        )


class DirectoryCache(Base):
    """The portal's departments and users as last read (``department.get`` / ``user.get``),
    so resolving "head of sales" does not cost a REST call per notification."""

    __tablename__ = "timer_directory"
    __table_args__ = (UniqueConstraint("member_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(32), nullable=False)  # departments | users
    data: Mapped[Any] = mapped_column(JSON, nullable=False)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
