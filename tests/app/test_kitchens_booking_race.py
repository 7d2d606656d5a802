"""Two overlapping bookings racing on the migrated store: exactly one wins, on every backend."""

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.booking import service
from app.store import bookings

POLICY = service.Policy.from_settings({"measurer_user_ids": [9]})


def _start() -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=7)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)  # 09:00 Moscow


def test_concurrent_overlapping_bookings_one_wins(services):
    start = _start()
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def attempt(lead: int, offset: timedelta) -> None:
        barrier.wait()
        with services.session() as session:
            try:
                service.book(
                    session,
                    "m-race",
                    POLICY,
                    datetime.now(UTC),
                    lead_id=lead,
                    measurer_id=9,
                    start=start + offset,
                )
                session.commit()
                outcomes.append("won")
            except service.Refused:
                session.rollback()
                outcomes.append("refused")

    offsets = [timedelta(0), timedelta(hours=1), timedelta(minutes=30), timedelta(0)]
    threads = [threading.Thread(target=attempt, args=(i, o)) for i, o in enumerate(offsets, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["refused", "refused", "refused", "won"]
    with services.session() as session:
        active = session.scalar(
            select(func.count())
            .select_from(bookings.MeasurementBooking)
            .where(bookings.MeasurementBooking.state == bookings.ACTIVE)
        )
        cells = session.scalar(select(func.count()).select_from(bookings.BookingCell))
    assert active == 1 and cells == 6  # one 3-hour booking, nothing half-kept
