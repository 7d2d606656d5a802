"""``flask b24 timers list|cancel|fire-due`` for operators (through Flask's CLI runner)."""

from datetime import UTC, datetime, timedelta

import pytest

from app.store.timers import CANCELLED, ENQUEUED, PENDING
from app.timers import service

M = "member-timers-cli"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def cli(flask_app, services):
    with services.session() as s:
        for i, due in enumerate((T0, T0 + timedelta(hours=1), T0 + timedelta(days=2))):
            service.start_timer(s, M, kind="k.x", due_at=due, record=("lead", i + 1), key=f"key{i}")
        s.commit()
    runner = flask_app.test_cli_runner()
    return lambda *args: runner.invoke(args=["b24", "timers", *args])


def _states(services):
    with services.session() as s:
        return [t.state for t in service.list_timers(s, member_id=M)]


def test_list_shows_timers_by_due_time_and_filters_by_state(cli, services):
    out = cli("list", "--portal", M)
    assert out.exit_code == 0, out.output
    lines = out.stdout.strip().splitlines()
    assert [line.split("\t")[3] for line in lines] == ["lead:1", "lead:2", "lead:3"]
    assert cli("list", "--state", "fired").stdout.strip() == ""
    assert cli("list", "--state", "nonsense").exit_code != 0


def test_fire_due_at_a_given_time_enqueues_only_what_is_due_then(cli, services):
    out = cli("fire-due", "--now", "2026-11-23T10:30:00+00:00")
    assert out.exit_code == 0 and "enqueued 2" in out.output
    assert _states(services) == [ENQUEUED, ENQUEUED, PENDING]
    assert services.queue("timers").count == 2


def test_fire_due_rejects_a_time_without_zone(cli, services):
    out = cli("fire-due", "--now", "2026-11-23T10:30:00")
    assert out.exit_code != 0 and "time zone" in out.output
    assert _states(services) == [PENDING] * 3


def test_cancel_one_or_a_portals_timers(cli, services):
    with services.session() as s:
        first = service.list_timers(s, member_id=M)[0].id
    assert cli("cancel", str(first)).exit_code == 0
    assert cli("cancel", str(first)).exit_code != 0  # no longer open: said, not hidden
    assert _states(services) == [CANCELLED, PENDING, PENDING]
    out = cli("cancel", "--portal", M)
    assert out.exit_code == 0 and "cancelled 2" in out.output
    assert cli("cancel").exit_code != 0
