"""b2b survey answers: one row per (portal, deal). Inserting the row is what makes the link
single-use: a second answer hits the primary key and is refused. ``manager_id`` and
``contact_id`` are filled by the job that writes the answers to the portal (the deal's
responsible then), so the NPS report groups by the manager who sold.

Functions take a Session and never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base, UTCDateTime

_ID = BigInteger().with_variant(Integer(), "sqlite")


class AlreadyAnswered(Exception):
    """The survey of this deal has an answer already."""


class NpsAnswer(Base):
    __tablename__ = "nps_answers"
    __table_args__ = (Index("ix_nps_answers_answered", "member_id", "answered_at"),)

    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    deal_id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=False)
    delivery: Mapped[int] = mapped_column(Integer)
    packaging: Mapped[int] = mapped_column(Integer)
    shelf: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    manager_id: Mapped[int | None] = mapped_column(_ID, nullable=True)
    contact_id: Mapped[int | None] = mapped_column(_ID, nullable=True)
    written_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


def get(session: Session, member_id: str, deal_id: int) -> NpsAnswer | None:
    return session.get(NpsAnswer, (member_id, int(deal_id)))


def add(session: Session, answer: NpsAnswer) -> None:
    """Store the answer (committing it); AlreadyAnswered when the deal has one."""
    session.add(answer)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AlreadyAnswered from None


def between(session: Session, member_id: str, start: datetime, end: datetime) -> list[NpsAnswer]:
    q = (
        select(NpsAnswer)
        .where(
            NpsAnswer.member_id == member_id,
            NpsAnswer.answered_at >= start,
            NpsAnswer.answered_at < end,
        )
        .order_by(NpsAnswer.answered_at)
    )
    return list(session.scalars(q))


def unwritten(
    session: Session, answered_before: datetime, answered_after: datetime
) -> list[tuple[str, int]]:
    """(member_id, deal_id) of answers never written to the portal (``written_at`` empty),
    given in ``[answered_after, answered_before)`` — oldest first."""
    q = (
        select(NpsAnswer.member_id, NpsAnswer.deal_id)
        .where(
            NpsAnswer.written_at.is_(None),
            NpsAnswer.answered_at < answered_before,
            NpsAnswer.answered_at >= answered_after,
        )
        .order_by(NpsAnswer.answered_at)
    )
    return [(str(m), int(d)) for m, d in session.execute(q)]
