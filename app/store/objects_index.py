"""Tables of the metal «Объект» tools: the duplicate index and the merge journal.

``object_keys`` holds one row per mirrored Object: the hash of its normalised duplicate key
(``app.domain.dedup.dedup_hash``) and the lead/deal it belongs to. A duplicate check is one
indexed lookup on ``(member_id, key_hash)`` instead of a scan of the portal or the mirror.

``object_merges`` is the merge journal: the request, the plan, and every step with its
state (``planned`` → ``applied``). A merge interrupted half-way resumes from the first step
not applied; the same request (same ``key``) never runs twice.

Functions take a ``Session`` and never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Index, Integer, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base, UTCDateTime, utcnow

_ID = BigInteger().with_variant(Integer(), "sqlite")


class ObjectKey(Base):
    __tablename__ = "object_keys"
    __table_args__ = (
        Index("ix_object_keys_hash", "member_id", "key_hash"),
        Index("ix_object_keys_lead", "member_id", "lead_id"),
        Index("ix_object_keys_deal", "member_id", "deal_id"),
    )

    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    object_id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=False)
    key_hash: Mapped[str | None] = mapped_column(String(32), nullable=True)  # None: incomplete
    lead_id: Mapped[int | None] = mapped_column(_ID, nullable=True)
    deal_id: Mapped[int | None] = mapped_column(_ID, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ObjectMerge(Base):
    __tablename__ = "object_merges"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    main_id: Mapped[int] = mapped_column(_ID)
    request: Mapped[dict] = mapped_column(JSON)  # duplicates, choices, who asked
    plan: Mapped[dict] = mapped_column(JSON)  # what the plan writes, moves, deletes
    steps: Mapped[list] = mapped_column(JSON)  # [{"n", "kind", "params", "state", "result"}]
    state: Mapped[str] = mapped_column(String(16))  # planned | running | applied | failed
    error: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def upsert(
    session: Session,
    member_id: str,
    object_id: int,
    key_hash: str | None,
    lead_id: int | None,
    deal_id: int | None,
) -> None:
    row = session.get(ObjectKey, (member_id, int(object_id)))
    if row is None:
        row = ObjectKey(member_id=member_id, object_id=int(object_id))
        session.add(row)
    row.key_hash, row.lead_id, row.deal_id = key_hash, lead_id, deal_id
    row.updated_at = utcnow()


def remove(session: Session, member_id: str, object_id: int) -> None:
    session.execute(
        delete(ObjectKey).where(
            ObjectKey.member_id == member_id, ObjectKey.object_id == int(object_id)
        )
    )


def with_hash(
    session: Session, member_id: str, key_hash: str, exclude: Iterable[int] = ()
) -> list[int]:
    """Object ids whose key hash equals ``key_hash`` (ascending), minus ``exclude``."""
    skip = {int(i) for i in exclude}
    # no ORDER BY in SQL: it makes planners walk the (member_id, object_id) primary key
    # instead of the hash index — a scan of the whole portal's Objects
    rows = session.scalars(
        select(ObjectKey.object_id).where(
            ObjectKey.member_id == member_id, ObjectKey.key_hash == key_hash
        )
    )
    return sorted(int(i) for i in rows if int(i) not in skip)


def linked_to(session: Session, member_id: str, entity: str, record_id: int) -> list[int]:
    """Object ids whose parent lead / deal is ``record_id``."""
    column = {"lead": ObjectKey.lead_id, "deal": ObjectKey.deal_id}[entity]
    rows = session.scalars(
        select(ObjectKey.object_id).where(
            ObjectKey.member_id == member_id, column == int(record_id)
        )
    )
    return sorted(int(i) for i in rows)  # sorted here, not in SQL (see with_hash)


class ObjectMergeClaim(Base):
    """One Object taken by one unfinished merge journal. The primary key makes two merges
    of overlapping Objects impossible at the database level (A←B and B←A at once would
    otherwise delete both); the claim is dropped when the journal is applied."""

    __tablename__ = "object_merge_claims"

    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    object_id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=False)
    merge_id: Mapped[int] = mapped_column(_ID, index=True)


class ClaimTaken(Exception):
    """An Object is claimed by another unfinished merge journal; roll back and ask
    :func:`claim_holders` (in a new transaction) which one."""


def claim(session: Session, member_id: str, merge_id: int, object_ids: Iterable[int]) -> None:
    """Claim ``object_ids`` for journal ``merge_id``; claims it already holds are kept.

    Raises :class:`ClaimTaken` when another journal holds one. The insert is flushed here,
    so a claim being made concurrently by another transaction fails too (PostgreSQL waits
    for that transaction, SQLite serialises writers): two claims never both succeed."""
    for object_id in sorted({int(i) for i in object_ids}):
        held = session.get(ObjectMergeClaim, (member_id, object_id))
        if held is None:
            session.add(
                ObjectMergeClaim(member_id=member_id, object_id=object_id, merge_id=merge_id)
            )
        elif held.merge_id != merge_id:
            raise ClaimTaken(object_id)
    try:
        session.flush()
    except IntegrityError as exc:
        raise ClaimTaken(None) from exc


def claim_holders(
    session: Session, member_id: str, object_ids: Iterable[int], *, other_than: int | None = None
) -> dict[int, ObjectMerge]:
    """Object id → the unfinished journal holding it (other than ``other_than``)."""
    ids = sorted({int(i) for i in object_ids})
    rows = session.execute(
        select(ObjectMergeClaim.object_id, ObjectMerge)
        .join(ObjectMerge, ObjectMerge.id == ObjectMergeClaim.merge_id)
        .where(ObjectMergeClaim.member_id == member_id, ObjectMergeClaim.object_id.in_(ids))
    )
    return {int(oid): merge for oid, merge in rows if merge.id != other_than}


def release(session: Session, merge_id: int) -> None:
    session.execute(delete(ObjectMergeClaim).where(ObjectMergeClaim.merge_id == int(merge_id)))
