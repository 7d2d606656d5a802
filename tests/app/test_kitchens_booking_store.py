"""The bookings Alembic revision matches the models; cells refuse double bookings."""

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import MetaData, create_engine, inspect
from sqlalchemy.orm import Session

from app.store import bookings
from app.store.base import Base
from tests.support.migrations import load_revision

T = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def test_upgrade_matches_the_models_and_downgrade_removes_them():
    engine = create_engine("sqlite://")
    rev = load_revision("0601_bookings.py")
    with engine.begin() as conn:
        ctx = MigrationContext.configure(conn)
        with Operations.context(ctx):
            rev.upgrade()
        wanted = MetaData()
        bookings.MeasurementBooking.__table__.to_metadata(wanted)
        bookings.BookingCell.__table__.to_metadata(wanted)
        assert compare_metadata(ctx, wanted) == []
        with Operations.context(ctx):
            rev.downgrade()
        assert not {"measurement_bookings", "measurement_booking_cells"} & set(
            inspect(conn).get_table_names()
        )
    assert rev.down_revision == "0001_installations" and rev.branch_labels == ("bookings",)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(
        engine,
        tables=[bookings.MeasurementBooking.__table__, bookings.BookingCell.__table__],
    )
    with Session(engine) as s:
        yield s


def _reserve(session, measurer, start, hours=3, lead=1):
    return bookings.reserve(
        session,
        "m",
        lead_id=lead,
        measurer_id=measurer,
        start=start,
        end=start + timedelta(hours=hours),
    )


def test_overlapping_booking_of_the_same_measurer_is_refused_and_nothing_is_half_kept(session):
    first = _reserve(session, 9, T)
    session.commit()
    with pytest.raises(bookings.SlotTaken):
        _reserve(session, 9, T + timedelta(hours=2, minutes=30), lead=2)
    session.rollback()
    assert [b.id for b in bookings.active_between(session, "m", T, T + timedelta(days=1))] == [
        first.id
    ]
    _reserve(session, 9, T + timedelta(hours=3), lead=3)  # back to back is fine
    _reserve(session, 10, T, lead=4)  # another measurer is fine
    session.commit()


def test_move_releases_the_old_cells_and_cancel_frees_the_slot(session):
    row = _reserve(session, 9, T)
    session.commit()
    bookings.move(session, row, T + timedelta(days=1))
    session.commit()
    assert row.version == 2 and row.end == T + timedelta(days=1, hours=3)
    _reserve(session, 9, T, lead=2)  # the old time is free again
    bookings.cancel(session, row)
    _reserve(session, 9, T + timedelta(days=1), lead=3)
    session.commit()


def test_off_grid_times_are_refused(session):
    with pytest.raises(ValueError):
        _reserve(session, 9, T + timedelta(minutes=10))
