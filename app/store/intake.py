"""Durable intake: work that arrived while Redis was down, kept in the SQL store.

A row is one thing a handler could not hand to RQ: a robot call, a lifecycle event waiting
for confirmation, or a job (the installer, an uninstall confirmation). ``app.intake``
writes rows when an enqueue fails and replays them — oldest first — once Redis answers
again (the clock process calls :func:`app.intake.replay` every tick). ``payload`` may hold
an event's ``auth`` block (a rotated ONAPPUPDATE): the row is deleted the moment it is
handed on, and never logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.store.base import Base, UTCDateTime, utcnow

_ID = BigInteger().with_variant(Integer(), "sqlite")
KINDS = ("robot", "lifecycle", "job")


class IntakeRow(Base):
    __tablename__ = "durable_intake"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    def __repr__(self) -> str:  # the payload may carry tokens
        return f"IntakeRow(id={self.id}, member_id={self.member_id!r}, kind={self.kind!r})"
