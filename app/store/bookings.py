"""Measurers' bookings (kitchens «Замер назначен»): rows and the cells that make them unique.

A booking reserves one measurer for ``[start, end)``. Overlap cannot be a plain unique
constraint, so every booking also holds one :class:`BookingCell` per ``CELL`` (30 min) it
covers, unique on ``(member_id, measurer_id, cell_start)``: two concurrent overlapping
bookings share at least one cell, so one of the two inserts fails on any backend and its
transaction is rolled back whole. Starts and ends must therefore lie on the cell grid.

States: ``active`` (holds its cells) and ``cancelled`` (cells released, row kept for history).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base, UTCDateTime, utcnow

CELL = timedelta(minutes=30)
ACTIVE, CANCELLED = "active", "cancelled"
_ID = BigInteger().with_variant(Integer(), "sqlite")


class SlotTaken(Exception):
    """Another booking holds part of the requested time (the caller offers other slots)."""


class MeasurementBooking(Base):
    __tablename__ = "measurement_bookings"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64), index=True)
    lead_id: Mapped[int] = mapped_column(_ID)
    measurer_id: Mapped[int] = mapped_column(Integer)
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    address: Mapped[str] = mapped_column(String(500), default="")
    staff_contact: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumps on every move
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BookingCell(Base):
    __tablename__ = "measurement_booking_cells"
    __table_args__ = (UniqueConstraint("member_id", "measurer_id", "cell_start"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(64))
    measurer_id: Mapped[int] = mapped_column(Integer)
    cell_start: Mapped[datetime] = mapped_column(UTCDateTime())
    booking_id: Mapped[int] = mapped_column(
        _ID, ForeignKey("measurement_bookings.id", ondelete="CASCADE"), index=True
    )


def on_grid(moment: datetime) -> bool:
    return moment.second == 0 and moment.microsecond == 0 and moment.minute % 30 == 0


def cells(start: datetime, end: datetime) -> list[datetime]:
    """The grid cells ``[start, end)`` covers; raises ValueError off the grid."""
    if not (on_grid(start) and on_grid(end)) or end <= start:
        raise ValueError("booking must start and end on a 30-minute grid, end after start")
    out, moment = [], start
    while moment < end:
        out.append(moment)
        moment += CELL
    return out


def _hold(session: Session, row: MeasurementBooking) -> None:
    for moment in cells(row.start, row.end):
        session.add(
            BookingCell(
                member_id=row.member_id,
                measurer_id=row.measurer_id,
                cell_start=moment,
                booking_id=row.id,
            )
        )
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise SlotTaken(f"measurer {row.measurer_id} is busy then") from exc


def reserve(
    session: Session,
    member_id: str,
    *,
    lead_id: int,
    measurer_id: int,
    start: datetime,
    end: datetime,
    address: str = "",
    staff_contact: str = "",
) -> MeasurementBooking:
    """Insert an active booking with its cells; raises SlotTaken (the caller rolls back)."""
    row = MeasurementBooking(
        member_id=member_id,
        lead_id=lead_id,
        measurer_id=measurer_id,
        start=start,
        end=end,
        address=address,
        staff_contact=staff_contact,
        state=ACTIVE,
        version=1,
    )
    session.add(row)
    session.flush()
    _hold(session, row)
    return row


def move(
    session: Session, row: MeasurementBooking, start: datetime, measurer_id: int | None = None
) -> MeasurementBooking:
    """Move an active booking (same length); raises SlotTaken (the caller rolls back)."""
    length = row.end - row.start
    session.execute(delete(BookingCell).where(BookingCell.booking_id == row.id))
    row.start, row.end = start, start + length
    row.measurer_id = row.measurer_id if measurer_id is None else measurer_id
    row.version += 1
    row.updated_at = utcnow()
    _hold(session, row)
    return row


def cancel(session: Session, row: MeasurementBooking) -> None:
    session.execute(delete(BookingCell).where(BookingCell.booking_id == row.id))
    row.state = CANCELLED
    row.updated_at = utcnow()


def get(session: Session, member_id: str, booking_id: int) -> MeasurementBooking | None:
    row = session.get(MeasurementBooking, booking_id)
    return row if row is not None and row.member_id == member_id else None


def active_between(
    session: Session, member_id: str, start: datetime, end: datetime
) -> list[MeasurementBooking]:
    """Active bookings of the portal overlapping ``[start, end)``."""
    q = select(MeasurementBooking).where(
        MeasurementBooking.member_id == member_id,
        MeasurementBooking.state == ACTIVE,
        MeasurementBooking.start < end,
        MeasurementBooking.end > start,
    )
    return list(session.scalars(q.order_by(MeasurementBooking.start)))
