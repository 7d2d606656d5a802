"""Spreadsheet import runs and their per-row outcomes (``app.importer``).

A run is identified by its portal and ``signature`` (file hash + mapping + options): the
same file imported the same way is the same run, so running the command again resumes it
instead of importing twice. States: ``checked`` (a dry run looked at it), ``applying``,
``done``. Functions take a Session and never commit, except where the docstring says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base, UTCDateTime, utcnow

_ID = BigInteger().with_variant(Integer(), "sqlite")
CHECKED, APPLYING, DONE = "checked", "applying", "done"


class ImportRun(Base):
    __tablename__ = "import_runs"
    __table_args__ = (UniqueConstraint("member_id", "signature", name="uq_import_runs_member_id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64))
    file_sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    next_row: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ImportRow(Base):
    __tablename__ = "import_rows"

    run_id: Mapped[int] = mapped_column(_ID, ForeignKey("import_runs.id"), primary_key=True)
    row_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    outcome: Mapped[str] = mapped_column(String(16))  # created|merged|skipped|refused
    detail: Mapped[str] = mapped_column(Text, default="")
    ids: Mapped[dict] = mapped_column(JSON, default=dict)


def find(session: Session, member_id: str, signature: str) -> ImportRun | None:
    q = select(ImportRun).where(ImportRun.member_id == member_id, ImportRun.signature == signature)
    return session.scalars(q).first()


def start(
    session: Session, member_id: str, file_sha256: str, signature: str, options: Mapping[str, Any]
) -> ImportRun:
    """The run of this signature, created in state ``checked`` when new (flushed)."""
    run = find(session, member_id, signature)
    if run is None:
        run = ImportRun(
            member_id=member_id,
            file_sha256=file_sha256,
            signature=signature,
            options=dict(options),
            state=CHECKED,
            next_row=0,
        )
        session.add(run)
        session.flush()
    return run


def record_chunk(
    session: Session, run: ImportRun, rows: Iterable[Mapping[str, Any]], next_row: int
) -> None:
    """Store a chunk's row outcomes and move the checkpoint past it (one transaction with
    the caller's commit). A row already recorded (a replay) is replaced, never doubled."""
    rows = [dict(r, run_id=run.id) for r in rows]
    if rows:
        session.execute(
            delete(ImportRow).where(
                ImportRow.run_id == run.id, ImportRow.row_no.in_([r["row_no"] for r in rows])
            )
        )
        session.execute(insert(ImportRow), rows)
    run.next_row = max(run.next_row, int(next_row))
    run.updated_at = utcnow()


def outcomes(session: Session, run_id: int) -> list[ImportRow]:
    q = select(ImportRow).where(ImportRow.run_id == run_id).order_by(ImportRow.row_no)
    return list(session.scalars(q))


def counts(session: Session, run_id: int) -> dict[str, int]:
    q = (
        select(ImportRow.outcome, func.count())
        .where(ImportRow.run_id == run_id)
        .group_by(ImportRow.outcome)
    )
    return {outcome: int(n) for outcome, n in session.execute(q)}
