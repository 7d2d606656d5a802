"""Two processes storing a new portal's people at once: the second insert loses to the unique
member_id and becomes an update (seen when the web's first page and a worker's first job
both read ``user.get`` for a fresh portal)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.store import people


def test_a_lost_insert_race_updates_the_winners_row(services, monkeypatch):
    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    with services.session() as winner:
        people.put(winner, "m-race", {"1": {"name": "A"}}, "+03:00", now)
        winner.commit()
    real_get = people.get
    calls = []

    def stale_get(session, member_id):  # the loser looked before the winner committed
        calls.append(member_id)
        return None if len(calls) == 1 else real_get(session, member_id)

    monkeypatch.setattr(people, "get", stale_get)
    with services.session() as loser:
        row = people.put(loser, "m-race", {"1": {"name": "B"}}, None, now)
        loser.commit()
        assert row.users == {"1": {"name": "B"}}
    monkeypatch.setattr(people, "get", real_get)
    with services.session() as s:
        stored = people.get(s, "m-race")
        assert stored.users == {"1": {"name": "B"}} and stored.utc_offset == "+03:00"
