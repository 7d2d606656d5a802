"""The clock's view of an ONOFFLINEEVENT announcement after a drain's ride-along check
(app.sync.ridealong): a notice that came right after a check that found rows announced
those rows (the portal's POST raced the drain) and costs no catch-up; any other notice
waits RIDE_GRACE for a drain, then the clock checks the queue itself."""

import pytest

from app.jobs import events
from app.sync import dirty, ridealong

M = "member-late"


@pytest.fixture(autouse=True)
def _clean(redis_conn):
    keys = list(redis_conn.scan_iter(f"*{M}*"))
    if keys:
        redis_conn.delete(*keys)
    # a check ran just now: it also reset the clock's 15-minute fallback gate
    redis_conn.set(ridealong.fallback_key(M), b"1", ex=900)


def _found(redis, at):
    redis.set(ridealong.found_key(M), repr(at))


def test_a_notice_right_after_a_check_that_found_rows_costs_no_catch_up(redis_conn):
    _found(redis_conn, 1000.0)
    dirty.announce_offline(redis_conn, M, at=1000.3)  # the POST came after the get was sent
    assert not events._offline_due(redis_conn, M, now=1000.3 + events.RIDE_GRACE + 1)
    assert not redis_conn.exists(dirty.announced_key(M))


def test_a_notice_before_the_check_or_long_after_it_is_checked_by_the_clock(redis_conn):
    _found(redis_conn, 1000.0)
    dirty.announce_offline(redis_conn, M, at=999.0)  # before: the check saw its rows ...
    dirty.announce_offline(redis_conn, M, at=1000.5)  # ... or not: both remain for the clock
    late = 1000.5 + events.RIDE_GRACE + 1
    assert not events._offline_due(redis_conn, M, now=1000.5)  # a drain may still take it
    assert events._offline_due(redis_conn, M, now=late)
    redis_conn.delete(dirty.announced_key(M), f"b24:every:catch_up_offline:{M}")
    dirty.announce_offline(redis_conn, M, at=1000.0 + ridealong.LATE_NOTICE + 0.5)
    assert events._offline_due(redis_conn, M, now=late + 5)  # too late to be the check's rows


def test_a_check_consumes_the_notices_that_came_before_it_was_sent(redis_conn):
    dirty.announce_offline(redis_conn, M, at=10.0)
    dirty.announce_offline(redis_conn, M, at=11.0)
    assert not dirty.consume_announcement(redis_conn, M, 10.5)  # the 11.0 one came after
    assert dirty.consume_announcement(redis_conn, M, 11.0)
    assert dirty.announced_since(redis_conn, M) is None
