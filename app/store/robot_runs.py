"""Robot runs: one row per robot call (``member_id`` + digest of the ``event_token``).

The row is what makes a robot call exactly-once across replays and RQ retries:

* ``received`` — a job took the call and is working on it (a crash leaves it here; the
  retry redoes the work, and ``apply_actions``' claims keep every effect single).
* ``decided``  — the robot ran, its actions were applied, the answer (return values / log
  message) is stored but not yet sent: a retry only re-sends the stored answer.
* ``answered`` — ``bizproc.event.send`` succeeded, or was not needed (``use_subscription=N``).
* ``failed``   — nothing could be answered (the portal refused the answer, or time ran out).

The event token itself is a capability (it closes a waiting workflow), so the store keeps
only its SHA-256 digest; the job has the token from its arguments.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base, UTCDateTime, utcnow

RECEIVED = "received"
DECIDED = "decided"
ANSWERED = "answered"
FAILED = "failed"
STATES = (RECEIVED, DECIDED, ANSWERED, FAILED)
FINAL = (ANSWERED, FAILED)

_ID = BigInteger().with_variant(Integer(), "sqlite")


def token_digest(event_token: str) -> str:
    """The stored key of an event token (hex SHA-256)."""
    return hashlib.sha256(event_token.encode("utf-8")).hexdigest()


class RobotRun(Base):
    __tablename__ = "robot_runs"
    __table_args__ = (UniqueConstraint("member_id", "token_digest"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), nullable=False)
    token_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    document: Mapped[str] = mapped_column(String(100), nullable=False)  # "LEAD_123"
    workflow_id: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=RECEIVED)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    wait_answer: Mapped[bool] = mapped_column(nullable=False, default=True)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    return_values: Mapped[Any] = mapped_column(JSON, nullable=True)
    log_message: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:  # no token, no values
        return f"<RobotRun {self.member_id} {self.code} {self.document} {self.state}>"


def get(session: Session, member_id: str, event_token: str) -> RobotRun | None:
    stmt = select(RobotRun).where(
        RobotRun.member_id == member_id, RobotRun.token_digest == token_digest(event_token)
    )
    return session.scalar(stmt)


def open_run(
    session: Session,
    member_id: str,
    event_token: str,
    *,
    code: str,
    document: str,
    workflow_id: str | None,
    wait_answer: bool,
    deadline_at: datetime | None,
) -> RobotRun:
    """The run of this call, created in ``received`` state if new; ``attempts`` counts the
    jobs that opened it. Commits (a concurrent insert of the same call is tolerated)."""
    row = get(session, member_id, event_token)
    if row is None:
        row = RobotRun(
            member_id=member_id,
            token_digest=token_digest(event_token),
            code=code,
            document=document[:100],
            workflow_id=(workflow_id or None) and workflow_id[:64],
            wait_answer=wait_answer,
            deadline_at=deadline_at,
            attempts=0,
        )
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            row = get(session, member_id, event_token)
            assert row is not None
    row.attempts += 1
    row.updated_at = utcnow()
    session.commit()
    return row


def decide(
    session: Session, row: RobotRun, return_values: dict[str, Any], log_message: str, error: str
) -> None:
    """Store the answer before sending it, so a retry re-sends the same one."""
    row.state = DECIDED
    row.return_values = return_values
    row.log_message = log_message
    row.error = error or None
    row.updated_at = utcnow()
    session.commit()


def finish(session: Session, row: RobotRun, state: str, error: str | None = None) -> None:
    if state not in FINAL:
        raise ValueError(f"not a final state: {state}")
    row.state = state
    if error:
        row.error = error
    now = utcnow()
    row.updated_at = now
    if state == ANSWERED:
        row.answered_at = now
    session.commit()
