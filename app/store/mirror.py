"""The CRM mirror: our copy of the records the playbooks use, plus stage history.

``mirror_records`` holds the raw ``crm.item`` dict (camelCase, as the portal returned it) of
each record; the rule engine diffs the portal's current record against it. Raw names are
kept (not stable codes) so a schema change on the portal does not make old snapshots look
different. ``mirror_stage_history`` has one row per stay in a stage (entered/left, by whom)
for time-in-stage reports. ``sync_checkpoints`` lets a full sync resume and an incremental
sync know where it stopped.

Functions take a ``Session`` and never commit: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base, UTCDateTime, record_rows, utcnow

OURS = "_created_by_app"  # marks a placeholder for a record we created but have not read yet

# Derived indexes (e.g. the metal Object duplicate index) follow the mirror: a listener is
# called as fn(session, member_id, entity, record_id, data_or_None) inside the same
# transaction whenever a record is stored or marked deleted.
_LISTENERS: list = []


def listen(fn) -> None:
    """Register a mirror listener (idempotent: the same function is kept once)."""
    if fn not in _LISTENERS:
        _LISTENERS.append(fn)


def _notify(session, member_id: str, entity: str, record_id: int, data) -> None:
    for fn in _LISTENERS:
        fn(session, member_id, entity, int(record_id), data)


class MirrorRecord(Base):
    __tablename__ = "mirror_records"

    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entity: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[dict] = mapped_column(JSON)
    stage: Mapped[str | None] = mapped_column(String(100), nullable=True)
    updated_time: Mapped[str | None] = mapped_column(String(40), nullable=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StageStay(Base):
    __tablename__ = "mirror_stage_history"
    __table_args__ = (Index("ix_mirror_stage_history_record", "member_id", "entity", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(100))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entered_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    left_by: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SyncCheckpoint(Base):
    __tablename__ = "sync_checkpoints"

    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entity: Mapped[str] = mapped_column(String(64), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), primary_key=True)  # full | incremental
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_modified: Mapped[str | None] = mapped_column(String(40), nullable=True)
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def get(session: Session, member_id: str, entity: str, record_id: int) -> dict[str, Any] | None:
    """The mirrored raw record, or None when we never saw it or it was deleted."""
    row = session.get(MirrorRecord, (member_id, entity, int(record_id)))
    if row is None or row.deleted:
        return None
    return dict(row.data)


def put(
    session: Session,
    member_id: str,
    entity: str,
    record_id: int,
    data: Mapping[str, Any],
    *,
    at: datetime | None = None,
    by: int | None = None,
) -> None:
    """Store the full current record; open/close stage-history rows when the stage moved
    (at the portal's ``movedTime``/``movedBy`` unless ``at``/``by`` are given)."""
    at = at or parse_time(data.get("movedTime")) or utcnow()
    by = by if by is not None else _int_or_none(data.get("movedBy"))
    row = session.get(MirrorRecord, (member_id, entity, int(record_id)))
    stage = data.get("stageId") or None
    if row is None:
        row = MirrorRecord(member_id=member_id, entity=entity, record_id=int(record_id), data={})
        session.add(row)
        old_stage, existed = None, False
    else:
        old_stage, existed = (None if row.deleted else row.stage), True
    row.data = dict(data)
    row.stage = stage
    row.updated_time = _str_or_none(data.get("updatedTime"))
    row.deleted = False
    row.synced_at = utcnow()
    if stage != old_stage:
        _move_stage(session, member_id, entity, int(record_id), stage, at, by, close=existed)
    _notify(session, member_id, entity, record_id, row.data)


def put_if_newer(
    session: Session, member_id: str, entity: str, record_id: int, data: Mapping[str, Any]
) -> bool:
    """:func:`put` unless the mirror already holds a later version (by ``updatedTime``) —
    e.g. the record as our own write returned it, newer than the state we fetched."""
    row = session.get(MirrorRecord, (member_id, entity, int(record_id)))
    if row is not None and not row.deleted and is_later(row.updated_time, data.get("updatedTime")):
        return False
    put(session, member_id, entity, record_id, data)
    return True


def is_later(stored: Any, incoming: Any) -> bool:
    """True when portal timestamp ``stored`` is strictly later than ``incoming``."""
    a, b = parse_time(stored), parse_time(incoming)
    if a is None or b is None:
        return False
    return a > b


def merge(
    session: Session, member_id: str, entity: str, record_id: int, fields: Mapping[str, Any]
) -> None:
    """Fold values we just wrote into the mirrored record (raw names), so the echo event of
    our own write diffs to nothing. Unknown records are left alone (the next fetch adds them)."""
    row = session.get(MirrorRecord, (member_id, entity, int(record_id)))
    if row is None or row.deleted:
        return
    data = {**row.data, **fields}
    put(session, member_id, entity, record_id, data)


def mark_deleted(
    session: Session, member_id: str, entity: str, record_id: int, *, at: datetime | None = None
) -> None:
    row = session.get(MirrorRecord, (member_id, entity, int(record_id)))
    if row is None or row.deleted:
        return
    row.deleted = True
    row.synced_at = utcnow()
    _move_stage(session, member_id, entity, int(record_id), None, at or utcnow(), None)
    _notify(session, member_id, entity, record_id, None)


def _move_stage(session, member_id, entity, record_id, stage, at, by, close: bool = True) -> None:
    if close:  # a record new to us has no open stay to close
        session.execute(
            update(StageStay)
            .where(
                StageStay.member_id == member_id,
                StageStay.entity == entity,
                StageStay.record_id == record_id,
                StageStay.left_at.is_(None),
            )
            .values(left_at=at, left_by=by)
        )
    if stage:
        session.add(
            StageStay(
                member_id=member_id,
                entity=entity,
                record_id=record_id,
                stage=stage,
                entered_at=at,
                entered_by=by,
            )
        )


def stage_history(session: Session, member_id: str, entity: str, record_id: int) -> list[StageStay]:
    return record_rows(session, StageStay, member_id, entity, record_id)


def put_many(
    session: Session, member_id: str, entity: str, items: Iterable[Mapping[str, Any]]
) -> int:
    """Bulk store records from a sync page. Records new to us are inserted with two
    executemany INSERTs (record + first stage stay at the portal's ``movedTime``); known
    ones go through :func:`put` so a moved stage closes the previous stay."""
    items = list(items)
    ids = [int(item["id"]) for item in items]
    if not ids:
        return 0
    known = {
        row.record_id: row
        for row in session.scalars(
            select(MirrorRecord).where(
                MirrorRecord.member_id == member_id,
                MirrorRecord.entity == entity,
                MirrorRecord.record_id.in_(ids),
            )
        )
    }
    now = utcnow()
    new_rows, new_stays = [], []
    for item in items:
        rid = int(item["id"])
        moved = parse_time(item.get("movedTime")) or parse_time(item.get("createdTime")) or now
        if rid in known:
            put(session, member_id, entity, rid, item, at=moved)
            continue
        stage = item.get("stageId") or None
        new_rows.append(
            {
                "member_id": member_id,
                "entity": entity,
                "record_id": rid,
                "data": dict(item),
                "stage": stage,
                "updated_time": _str_or_none(item.get("updatedTime")),
                "deleted": False,
                "synced_at": now,
            }
        )
        if stage:
            new_stays.append(
                {
                    "member_id": member_id,
                    "entity": entity,
                    "record_id": rid,
                    "stage": stage,
                    "entered_at": moved,
                    "entered_by": _int_or_none(item.get("movedBy")),
                }
            )
    if new_rows:
        session.execute(insert(MirrorRecord), new_rows)
    if new_stays:
        session.execute(insert(StageStay), new_stays)
    for row in new_rows if _LISTENERS else ():
        _notify(session, member_id, entity, row["record_id"], row["data"])
    return len(items)


def records(session: Session, member_id: str, entity: str) -> Iterable[MirrorRecord]:
    q = select(MirrorRecord).where(
        MirrorRecord.member_id == member_id,
        MirrorRecord.entity == entity,
        MirrorRecord.deleted.is_(False),
    )
    return session.scalars(q)


def checkpoint(session: Session, member_id: str, entity: str, mode: str) -> SyncCheckpoint:
    """The checkpoint row (created at zero when missing)."""
    row = session.get(SyncCheckpoint, (member_id, entity, mode))
    if row is None:
        row = SyncCheckpoint(
            member_id=member_id, entity=entity, mode=mode, last_id=0, finished=False
        )
        session.add(row)
        session.flush()
    return row


def _str_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None
