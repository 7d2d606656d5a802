"""The outbox: one row per message the app promised to send (a client message or a staff
chat message), with what happened to it.

States (``state``):

* ``queued``    — recorded, a send job is (or will be) on its way;
* ``sending``   — a job claimed it and is talking to the provider (claimed *before* the
  provider call, committed, so a second job or a replay never sends it again);
* ``sent``      — the provider took it (``provider_id`` is its id there);
* ``refused``   — it could not be sent and never will be (no recipient, bad address,
  "do not contact", unresolved placeholder, no channel on the portal): ``error`` says why;
* ``failed``    — the provider kept failing until the last retry: ``error`` says why;
* ``uncertain`` — a worker died after claiming: whether it went out is unknown, and it is
  not sent again (a double message is worse than a missing one; the record says so).

``(member_id, key)`` is unique: ``key`` is the rule engine's idempotency key of the
``MessageClient`` action, so a replayed event or timer finds the same row.
Functions take a ``Session`` and never commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy import update as sa_update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base, UTCDateTime, utcnow

QUEUED, SENDING, SENT = "queued", "sending", "sent"
REFUSED, FAILED, UNCERTAIN = "refused", "failed", "uncertain"
FINAL = (SENT, REFUSED, FAILED, UNCERTAIN)

_ID = BigInteger().with_variant(Integer(), "sqlite")


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("member_id", "key"),
        Index("ix_outbox_messages_record", "member_id", "entity", "record_id"),
        Index("ix_outbox_messages_state", "state", "updated_at"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), nullable=False)
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    playbook: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    rule: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    record_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    wanted: Mapped[str] = mapped_column(String(16), nullable=False)  # the rule's channel
    channel: Mapped[str | None] = mapped_column(String(16))  # the channel it went out on
    template: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    subject: Mapped[str] = mapped_column(Text, nullable=False, default="")
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")  # rendered when sent
    recipient: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=QUEUED)
    provider_id: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


def record(session: Session, member_id: str, key: str, **values: Any) -> tuple[OutboxMessage, bool]:
    """The row of ``key``, created from ``values`` when new; ``(row, created)``.
    A replay finds the existing row and changes nothing."""
    found = by_key(session, member_id, key)
    if found is not None:
        return found, False
    row = OutboxMessage(member_id=member_id, key=key, **values)
    # a savepoint: a concurrent insert of the same key loses quietly instead of failing
    # the whole apply transaction
    from sqlalchemy.exc import IntegrityError

    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = by_key(session, member_id, key)
        assert found is not None
        return found, False
    return row, True


def by_key(session: Session, member_id: str, key: str) -> OutboxMessage | None:
    q = select(OutboxMessage).where(OutboxMessage.member_id == member_id, OutboxMessage.key == key)
    return session.scalars(q).first()


def get(session: Session, member_id: str, message_id: int) -> OutboxMessage | None:
    row = session.get(OutboxMessage, int(message_id))
    return row if row is not None and row.member_id == member_id else None


def claim(session: Session, row: OutboxMessage) -> bool:
    """``queued`` → ``sending`` (attempts + 1), atomically: True for exactly one caller."""
    result = session.execute(
        sa_update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.state == QUEUED)
        .values(state=SENDING, attempts=OutboxMessage.attempts + 1, updated_at=utcnow())
    )
    session.refresh(row)
    return result.rowcount == 1


def settle(session: Session, row: OutboxMessage, state: str, **values: Any) -> None:
    """Move ``row`` to ``state`` with the given column values (provider_id, error, …)."""
    for name, value in values.items():
        setattr(row, name, value)
    row.state = state
    row.updated_at = utcnow()


def for_record(
    session: Session, member_id: str, entity: str, record_id: int
) -> list[OutboxMessage]:
    q = (
        select(OutboxMessage)
        .where(
            OutboxMessage.member_id == member_id,
            OutboxMessage.entity == entity,
            OutboxMessage.record_id == int(record_id),
        )
        .order_by(OutboxMessage.id)
    )
    return list(session.scalars(q))


def stale_queued(session: Session, older_than: datetime, limit: int = 200) -> list[OutboxMessage]:
    """``queued`` rows not touched since ``older_than`` (their job was lost with Redis)."""
    q = (
        select(OutboxMessage)
        .where(OutboxMessage.state == QUEUED, OutboxMessage.updated_at < older_than)
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return list(session.scalars(q))
