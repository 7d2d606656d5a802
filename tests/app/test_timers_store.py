"""Timer rows: keyed start, cancellation, atomic claims, leases and orphan recovery
(on SQLite, and PostgreSQL when TEST_DATABASE_URL is set)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from app.store.timers import CANCELLED, ENQUEUED, FAILED, PENDING, Timer
from app.timers import claims, service

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
M = "member-timers"


@pytest.fixture
def sessions(database_url):
    engine = create_engine(database_url)
    yield sessionmaker(engine)
    engine.dispose()


def _start(s, key, due, record=("lead", 1), kind="k.sos", member=M, **kw):
    return service.start_timer(s, member, kind=kind, due_at=due, record=record, key=key, **kw)


def test_starting_the_same_key_twice_keeps_one_row_and_returns_its_id(sessions):
    with sessions() as s:
        first = _start(s, "a", T0, payload={"stage": "x"})
        again = _start(s, "a", T0 + timedelta(hours=5), payload={"stage": "y"})
        s.commit()
    with sessions() as s:
        rows = service.list_timers(s, member_id=M)
    assert first == again and len(rows) == 1
    assert rows[0].due_at == T0 and rows[0].payload == {"stage": "x"}  # the first one wins


def test_bad_timer_input_is_refused_before_anything_is_stored(sessions):
    with sessions() as s:
        with pytest.raises(ValueError, match="aware"):
            _start(s, "n", datetime(2026, 1, 1))
        with pytest.raises(ValueError, match="int"):
            _start(s, "r", T0, record=("lead", "5"))
        with pytest.raises(ValueError, match="JSON"):
            _start(s, "p", T0, payload={"x": object()})
        s.commit()
        assert service.list_timers(s, member_id=M) == []


def test_cancel_by_kind_and_record_leaves_others_and_closed_ones_alone(sessions):
    with sessions() as s:
        _start(s, "1", T0, record=("lead", 1))
        _start(s, "2", T0, record=("lead", 2))
        _start(s, "3", T0, record=("lead", 1), kind="k.other")
        _start(s, "4", T0, record=("lead", 1), member="someone-else")
        assert service.cancel_timers(s, M, kind="k.sos", record=("lead", 1)) == 1
        assert service.cancel_timers(s, M, kind="k.sos", record=("lead", 1)) == 0
        s.commit()
        states = {t.key: t.state for t in s.query(Timer)}
    assert states == {"1": CANCELLED, "2": PENDING, "3": PENDING, "4": PENDING}


def test_cancel_all_for_portal_only_touches_that_portal(sessions):
    with sessions() as s:
        for i in range(3):
            _start(s, f"m{i}", T0 + timedelta(minutes=i), record=("deal", i + 1))
        _start(s, "other", T0, member="other-portal")
        assert service.cancel_all_for_portal(s, M) == 3
        s.commit()
        assert [t.member_id for t in service.list_timers(s, state=PENDING)] == ["other-portal"]


def test_claim_takes_only_due_rows_once_and_two_clocks_never_share_a_row(sessions):
    with sessions() as s:
        for i in range(10):
            _start(s, f"d{i}", T0 + timedelta(minutes=i), record=("lead", i + 1))
        _start(s, "future", T0 + timedelta(days=1))
        s.commit()
    now = T0 + timedelta(minutes=5)
    with sessions() as a, sessions() as b:
        first = claims.claim_due(a, now, owner="clock-a", limit=4)
        second = claims.claim_due(b, now, owner="clock-b", limit=100)
        third = claims.claim_due(a, now, owner="clock-a")
    ids_first = {c.timer_id for c in first}
    ids_second = {c.timer_id for c in second}
    assert len(ids_first) == 4 and len(ids_second) == 2 and not ids_first & ids_second
    assert third == []
    with sessions() as s:
        rows = {t.key: t for t in s.query(Timer)}
    assert {k for k, t in rows.items() if t.state == ENQUEUED} == {f"d{i}" for i in range(6)}
    assert rows["d0"].attempts == 1 and rows["d0"].lease_until > now


def test_an_expired_lease_returns_the_row_and_too_many_attempts_fail_it(sessions):
    with sessions() as s:
        _start(s, "x", T0)
        s.commit()
        lease = timedelta(minutes=10)
        now = T0
        for _attempt in range(claims.MAX_ATTEMPTS):
            assert len(claims.claim_due(s, now, lease=lease)) == 1
            assert claims.release_expired(s, now + lease / 2) == 0  # not yet
            now += lease + timedelta(seconds=1)
            claims.release_expired(s, now)
        row = s.query(Timer).one()
        assert row.state == FAILED and "gave up" in row.outcome
        assert claims.claim_due(s, now) == []


def test_a_claim_whose_rq_job_vanished_goes_back_to_pending(sessions, redis_conn):
    with sessions() as s:
        _start(s, "lost", T0)
        _start(s, "alive", T0, record=("lead", 2))
        s.commit()
        claimed = {c.timer_id: c for c in claims.claim_due(s, T0)}
        alive_id = service.list_timers(s, record=("lead", 2))[0].id
        redis_conn.hset(f"rq:job:{claimed[alive_id].job_id}", "status", "queued")
        # within the grace period nothing is touched (the enqueue may be in flight)
        assert claims.release_orphans(s, redis_conn, T0 + timedelta(seconds=5)) == 0
        assert claims.release_orphans(s, redis_conn, T0 + timedelta(minutes=1)) == 1
        states = {t.key: t.state for t in s.query(Timer)}
    assert states == {"lost": PENDING, "alive": ENQUEUED}


def test_a_cancelled_enqueued_timer_is_not_reclaimed(sessions):
    with sessions() as s:
        _start(s, "c", T0)
        s.commit()
        (claim,) = claims.claim_due(s, T0)
        assert service.cancel_by_id(s, claim.timer_id)
        s.commit()
        claims.release_expired(s, T0 + timedelta(days=1))
        assert claims.claim_due(s, T0 + timedelta(days=1)) == []
        assert s.get(Timer, claim.timer_id).state == CANCELLED


def test_two_clocks_claiming_at_the_same_time_split_the_rows_without_overlap(sessions):
    import threading

    with sessions() as s:
        for i in range(120):
            _start(s, f"c{i}", T0, record=("lead", i + 1))
        s.commit()
    got: dict[str, list[int]] = {"a": [], "b": []}
    errors = []

    def clock(name):
        try:
            with sessions() as s:
                while batch := claims.claim_due(s, T0, owner=name, limit=7):
                    got[name].extend(c.timer_id for c in batch)
        except Exception as exc:  # surfaced below: a lost claim would be a bug
            errors.append(exc)

    threads = [threading.Thread(target=clock, args=(n,)) for n in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert not set(got["a"]) & set(got["b"])
    assert len(got["a"]) + len(got["b"]) == 120
