"""Booking service: refusals name the problem and offer the next free slots; moves keep ids."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.booking import service
from app.store import bookings
from app.store.base import Base

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 09:00 Moscow
THU_10 = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # Thursday 10:00 Moscow
POLICY = service.Policy.from_settings({"measurer_user_ids": [9], "measurement_hours": 3})


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(
        engine, tables=[bookings.MeasurementBooking.__table__, bookings.BookingCell.__table__]
    )
    with Session(engine) as s:
        yield s


def _book(session, start, lead=1, measurer=9):
    row = service.book(
        session, "m", POLICY, NOW, lead_id=lead, measurer_id=measurer, start=start, address="A"
    )
    session.commit()
    return row


def test_default_slot_is_three_hours_and_the_lead_gets_its_fields(session):
    row = _book(session, THU_10)
    assert row.end - row.start == timedelta(hours=3)
    assert service.lead_fields(row) == {
        "UF_CRM_KT_MEASURE_AT": "2026-11-26T07:00:00+00:00",
        "UF_CRM_KT_MEASURER": 9,
        "UF_CRM_KT_ADDRESS": "A",
    }


def test_double_booking_is_refused_with_the_next_free_slots(session):
    _book(session, THU_10)
    with pytest.raises(service.Refused) as refused:
        _book(session, THU_10 + timedelta(hours=1), lead=2)
    assert any("Замерщик занят" in p for p in refused.value.problems)
    # 10:00–13:00 is taken: next grid slots of the day are 13:00 (09:00 start + 3 h steps: 12:00
    # overlaps) — the offers never overlap the booking
    offers = refused.value.offers
    assert offers and all(o.start >= THU_10 + timedelta(hours=3) or o.end <= THU_10 for o in offers)


def test_not_a_measurer_outside_hours_and_past_are_refused(session):
    with pytest.raises(service.Refused) as refused:
        service.book(session, "m", POLICY, NOW, lead_id=1, measurer_id=3, start=THU_10)
    assert "Сотрудник 3 не замерщик" in refused.value.problems
    late = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)  # 16:00 Moscow + 3 h > 18:00
    with pytest.raises(service.Refused):
        service.book(session, "m", POLICY, NOW, lead_id=1, measurer_id=9, start=late)
    with pytest.raises(service.Refused):
        service.book(
            session, "m", POLICY, NOW, lead_id=1, measurer_id=9, start=NOW - timedelta(days=1)
        )


def test_reschedule_moves_the_same_booking_and_frees_the_old_time(session):
    row = _book(session, THU_10)
    service.reschedule(session, "m", POLICY, NOW, row, THU_10 + timedelta(days=1))
    session.commit()
    assert row.version == 2 and row.start == THU_10 + timedelta(days=1)
    assert _book(session, THU_10, lead=2).start == THU_10


def test_a_cancelled_booking_cannot_be_moved_and_clears_the_lead(session):
    row = _book(session, THU_10)
    bookings.cancel(session, row)
    session.commit()
    with pytest.raises(service.Refused):
        service.reschedule(session, "m", POLICY, NOW, row, THU_10 + timedelta(days=1))
    assert service.lead_fields(row)["UF_CRM_KT_MEASURE_AT"] is None
