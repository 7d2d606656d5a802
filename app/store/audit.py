"""Action claims (exactly-once effects) and the audit log of everything rules did.

``action_claims`` — one row per (member_id, action key). A claim is taken (``pending``)
*before* the portal call and settled (``done`` / ``failed``) after it, in separate commits:

* ``done``     → a replay skips the action (duplicate).
* ``failed``   → the portal refused it, nothing happened: a retry may claim it again.
* ``pending``  → a previous attempt died between sending and recording. Whether the portal
  executed it is unknown; the apply step re-sends actions that are harmless to repeat
  (field updates, stage moves, links, deletes), looks up creates it tagged with the key
  (records, tasks, comments: ``app.rules.recovery``) and makes them only when not found,
  and reports the rest (notifications, messages) as ``uncertain`` rather than send twice.

``audit_log`` — one row per action outcome: what (action type + values), why (rule + cause),
on which record, and the result or error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base, UTCDateTime, record_rows, utcnow

PENDING = "pending"
DONE = "done"
FAILED = "failed"


class ActionClaim(Base):
    __tablename__ = "action_claims"

    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    result: Mapped[Any] = mapped_column(JSON, nullable=True)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_record", "member_id", "entity", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rule: Mapped[str] = mapped_column(String(200))
    cause: Mapped[str] = mapped_column(String(300))
    action_type: Mapped[str] = mapped_column(String(40))
    action: Mapped[Any] = mapped_column(JSON, nullable=True)
    key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    result: Mapped[Any] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def existing_claims(
    session: Session, member_id: str, keys: Iterable[str]
) -> dict[str, ActionClaim]:
    keys = list(keys)
    if not keys:
        return {}
    q = select(ActionClaim).where(ActionClaim.member_id == member_id, ActionClaim.key.in_(keys))
    return {c.key: c for c in session.scalars(q)}


def try_claim(session: Session, member_id: str, key: str, rule: str) -> bool:
    """Insert a pending claim; False when another worker holds (or finished) it.

    Uses a savepoint so a lost race does not spoil the caller's transaction."""
    try:
        with session.begin_nested():
            session.add(ActionClaim(member_id=member_id, key=key, rule=rule, status=PENDING))
    except IntegrityError:
        return False
    return True


def reclaim_failed(session: Session, claim: ActionClaim) -> None:
    """A failed action may be retried: flip its claim back to pending."""
    claim.status = PENDING
    claim.claimed_at = utcnow()
    claim.settled_at = None


def settle(session: Session, member_id: str, key: str, status: str, result: Any = None) -> None:
    claim = session.get(ActionClaim, (member_id, key))
    if claim is None:  # settled without a claim (skipped actions): nothing to record
        return
    claim.status = status
    claim.result = result
    claim.settled_at = utcnow()


def record(
    session: Session,
    *,
    member_id: str,
    entity: str,
    record_id: int | None,
    rule: str,
    cause: str,
    action_type: str,
    action: Mapping[str, Any] | None,
    status: str,
    key: str | None = None,
    result: Any = None,
    error: str | None = None,
) -> None:
    """Add one audit row."""
    session.add(
        AuditEntry(
            member_id=member_id,
            entity=entity,
            record_id=record_id,
            rule=rule[:200],
            cause=cause[:300],
            action_type=action_type,
            action=dict(action) if action is not None else None,
            key=key,
            status=status,
            result=result,
            error=error,
        )
    )


def for_record(session: Session, member_id: str, entity: str, record_id: int) -> list[AuditEntry]:
    return record_rows(session, AuditEntry, member_id, entity, record_id)
