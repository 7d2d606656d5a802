"""The echoes of our own updates and the offline rows the online delivery covered cost no
read (app.sync.echoes, app.sync.dirty.admit, app.sync.offline._covered_online).

In-memory portal (tests/app/_events_fakes.py), real Redis; the inbox's Lua is exercised
through ``dirty.admit`` exactly as ``app.sync.intake.accept`` calls it."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from app.rules import dispatch
from app.rules.actions import CreateRecord, MoveStage, UpdateFields
from app.rules.model import Rule, on_created, on_stage_entered
from app.rules.naming import PlainNaming
from app.store import mirror
from app.store.base import Base
from app.sync import dirty, offline
from app.sync.context import PortalContext
from app.sync.echoes import EchoAwareClient, echo_key
from app.sync.process import process_record
from tests.app._events_fakes import FakePortal

M = "member-echo"
NAMING = PlainNaming(stages={"lead": {"t.new": "NEW", "t.qualified": "UC_Q"}})


def _qualify(ctx):
    # two updates of the record in one batch: two ONCRMLEADUPDATE echoes
    return [
        MoveStage("lead", ctx.change.record_id, "t.qualified"),
        UpdateFields("lead", ctx.change.record_id, {"title": "Q"}),
    ]


def _deal_linked_back(ctx):
    # the deal's id is written into the lead: an update that is not the action's primary
    # result (app.rules.commands), so apply does not mirror it
    return [
        CreateRecord("deal", {"title": "D"}, link_from=("lead", ctx.change.record_id),
                     link_field="ufDeal")
    ]  # fmt: skip


@pytest.fixture
def ctx(redis_conn):
    dispatch.register("echobook", [Rule("qualify", "lead", on_stage_entered("t.new"), _qualify)])
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield PortalContext(
        member_id=M,
        session_factory=sessionmaker(engine),
        client=FakePortal(),
        naming=NAMING,
        redis=redis_conn,
        playbooks=("echobook",),
        now=lambda: datetime(2026, 11, 22, tzinfo=UTC),
    )
    dispatch.unregister("echobook")
    dispatch.unregister("linkbook")


def _epoch(stamp: str) -> int:
    return int(datetime.fromisoformat(stamp).timestamp())


def _event(redis, n, rid, ts, verb="UPDATE", entity="lead"):
    """What the inbox does with one ONCRMLEAD<verb> POST (a distinct delivery each)."""
    return dirty.admit(
        redis, M, f"digest-{n}", str(ts), entity, rid, now=ts,
        is_add=verb == "ADD", is_update=verb == "UPDATE",
    )  # fmt: skip


def _new_lead(ctx):
    lead = ctx.client.add(1, title="L")
    at = _epoch(lead["updatedTime"])
    assert _event(ctx.redis, 0, lead["id"], at, "ADD") == dirty.SCHEDULE
    process_record(ctx, "lead", lead["id"])
    return lead, _epoch(ctx.client.items[(1, lead["id"])]["updatedTime"])


def test_the_echoes_of_our_updates_mark_nothing_then_a_persons_edit_is_read(ctx):
    lead, wrote_at = _new_lead(ctx)
    assert ctx.client.items[(1, lead["id"])]["stageId"] == "UC_Q"
    dirty.done(ctx.redis, M, dirty.take(ctx.redis, M, 10))  # the drain took the ADD
    # the portal posts one UPDATE per crm.item.update of our batch: both are ours
    assert _event(ctx.redis, 1, lead["id"], wrote_at) == dirty.OUR_ECHO
    assert _event(ctx.redis, 2, lead["id"], wrote_at) == dirty.OUR_ECHO
    assert not ctx.redis.exists(echo_key(M, "lead", lead["id"]))
    assert dirty.take(ctx.redis, M, 10) == []  # nothing to read
    # the next UPDATE is not ours: the record is marked and will be read
    assert _event(ctx.redis, 3, lead["id"], wrote_at) in (dirty.SCHEDULE, dirty.ALREADY_SCHEDULED)
    assert [e[:2] for e in dirty.take(ctx.redis, M, 10)] == [("lead", lead["id"])]
    # the mirror holds the record as the portal does: what a read would have found
    with ctx.session_factory() as s:
        assert mirror.get(s, M, "lead", lead["id"]) == ctx.client.items[(1, lead["id"])]


def test_an_update_later_than_our_write_is_never_taken_for_its_echo(ctx):
    lead, wrote_at = _new_lead(ctx)
    # an edit two seconds after our write (our echoes still on their way) is read
    assert _event(ctx.redis, 1, lead["id"], wrote_at + 2) != dirty.OUR_ECHO
    assert _event(ctx.redis, 2, lead["id"], wrote_at) == dirty.OUR_ECHO


def test_a_persons_edit_counted_as_our_echo_leaves_our_echo_to_be_read(ctx):
    lead, wrote_at = _new_lead(ctx)
    outcomes = [_event(ctx.redis, n, lead["id"], wrote_at) for n in range(1, 4)]
    # three UPDATEs for two expected echoes, in whatever order: the last one is read, and
    # it arrives after every change it could stand for
    assert outcomes[:2] == [dirty.OUR_ECHO, dirty.OUR_ECHO]
    assert outcomes[2] in (dirty.SCHEDULE, dirty.ALREADY_SCHEDULED)


def test_a_refused_update_or_a_failed_batch_expects_no_echo(ctx, redis_conn):
    portal = ctx.client
    portal.fail_methods = {"crm.item.update"}
    lead, wrote_at = _new_lead(ctx)
    assert not redis_conn.exists(echo_key(M, "lead", lead["id"]))
    assert _event(redis_conn, 1, lead["id"], wrote_at) != dirty.OUR_ECHO

    class Down:
        def batch(self, cmd, halt=False):
            raise ConnectionError("portal unreachable")

    writer = EchoAwareClient(Down(), redis_conn, M)
    with pytest.raises(ConnectionError):
        writer.batch({"a0": ("crm.item.update", {"entityTypeId": 1, "id": 5, "fields": {}})})
    assert not redis_conn.exists(echo_key(M, "lead", 5))


def test_a_link_written_by_a_create_is_mirrored_with_its_echo_taken(ctx):
    dispatch.register("linkbook", [Rule("link", "lead", on_created(), _deal_linked_back)])
    ctx = replace(ctx, playbooks=("linkbook",))
    lead = ctx.client.add(1, title="L")
    process_record(ctx, "lead", lead["id"])
    deal_id = ctx.client.items[(1, lead["id"])]["ufDeal"]
    at = _epoch(ctx.client.items[(1, lead["id"])]["updatedTime"])
    assert _event(ctx.redis, 1, lead["id"], at) == dirty.OUR_ECHO
    with ctx.session_factory() as s:
        assert mirror.get(s, M, "lead", lead["id"])["ufDeal"] == deal_id


def _row(n, rid, stamp, event="ONCRMLEADUPDATE"):
    return {
        "ID": str(n),
        "TIMESTAMP_X": stamp,
        "EVENT_NAME": event,
        "EVENT_DATA": {"FIELDS": {"ID": str(rid)}},
        "MESSAGE_ID": f"m{n:031d}",
    }


def test_offline_rows_the_online_delivery_covered_are_cleared_without_a_read(ctx):
    portal = ctx.client
    lead, wrote_at = _new_lead(ctx)
    missed = portal.add(1, title="M")  # its online POST was lost
    _event(ctx.redis, 1, lead["id"], wrote_at)  # our echo, taken online
    stamp = ctx.client.items[(1, lead["id"])]["updatedTime"]
    portal.offline = [
        _row(1, lead["id"], lead["updatedTime"], "ONCRMLEADADD"),
        _row(2, lead["id"], stamp),
        _row(3, missed["id"], missed["updatedTime"], "ONCRMLEADADD"),
    ]
    reads = len(portal.batches)
    result = offline.catch_up(ctx)
    assert (result.rows, result.covered, result.records) == (3, 1, 1)
    assert portal.offline == []  # all cleared
    read = [cmd["rec"][1]["id"] for cmd in portal.batches[reads:] if "rec" in cmd]
    assert read == [missed["id"]]  # only the record online delivery never brought


def test_an_offline_row_newer_than_the_last_online_event_is_read(ctx):
    portal = ctx.client
    lead, wrote_at = _new_lead(ctx)
    later = datetime.fromtimestamp(wrote_at + 30, UTC).isoformat()
    portal.offline = [_row(1, lead["id"], later), _row(2, lead["id"], "not a time")]
    reads = len(portal.batches)
    result = offline.catch_up(ctx)
    assert (result.covered, result.records) == (0, 1)
    assert len(portal.batches) > reads


# --- a writer that died mid-batch (chaos run: kitchens leads whose move went unread) -------


class _Clock:
    """``time`` for app.sync.echoes: the writer's batch went out at ``at``."""

    def __init__(self, at):
        self.at = at

    def time(self):
        return self.at


def _dead_writer(redis, monkeypatch, record_id, sent_at):
    """What a worker SIGKILLed while its batch was in flight leaves: the expectation, never
    settled nor taken back."""
    import app.sync.echoes as echoes_module

    monkeypatch.setattr(echoes_module, "time", _Clock(sent_at))
    writer = EchoAwareClient(object(), redis, M)
    writer._expect({("lead", record_id): 1})
    monkeypatch.undo()


def test_a_marker_left_in_flight_too_long_takes_no_persons_edit_for_ours(ctx, monkeypatch):
    import time

    now = time.time()
    _dead_writer(ctx.redis, monkeypatch, 41, now - 31)
    assert ctx.redis.exists(echo_key(M, "lead", 41))
    # a person's move a while later: read, and the dead writer's marker is dropped
    outcome = dirty.admit(ctx.redis, M, "d-41", str(int(now)), "lead", 41, now=now, is_update=True)
    assert outcome in (dirty.SCHEDULE, dirty.ALREADY_SCHEDULED)
    assert [e[:2] for e in dirty.take(ctx.redis, M, 10)] == [("lead", 41)]
    assert not ctx.redis.exists(echo_key(M, "lead", 41))


def test_the_sweep_reads_again_a_record_whose_writer_died_in_flight(ctx, monkeypatch):
    import time

    from app.sync import echoes

    now = time.time()
    _dead_writer(ctx.redis, monkeypatch, 42, now)
    # in flight: a person's edit now is taken for the echo (the writer may still be alive) …
    outcome = dirty.admit(ctx.redis, M, "d-42", str(int(now)), "lead", 42, now=now, is_update=True)
    assert outcome == dirty.OUR_ECHO
    assert dirty.take(ctx.redis, M, 10) == []
    # … but no answer ever comes: the sweep (each clock tick) hands the record back to be
    # read, which finds the edit; before INFLIGHT_MAX it leaves a live batch alone
    assert echoes.sweep_stale(ctx.redis, M, now=now + 5) == []
    _dead_writer(ctx.redis, monkeypatch, 43, now)  # a second record, still expecting
    stale = echoes.sweep_stale(ctx.redis, M, now=now + echoes.INFLIGHT_MAX + 1)
    assert stale == ["lead:43"]  # 42's only echo was taken: its marker is gone already
    dirty.mark(ctx.redis, M, stale)
    assert [e[:2] for e in dirty.take(ctx.redis, M, 10)] == [("lead", 43)]
    assert not ctx.redis.exists(echo_key(M, "lead", 43))
    assert ctx.redis.zcard(echoes.inflight_key(M)) == 0


def test_a_settled_batch_leaves_the_sweep_nothing_to_read(ctx):
    from app.sync import echoes

    lead, _ = _new_lead(ctx)  # our write-back went out and was answered
    assert ctx.redis.exists(echo_key(M, "lead", lead["id"]))
    later = datetime.now(UTC).timestamp() + echoes.INFLIGHT_MAX + 1
    assert echoes.sweep_stale(ctx.redis, M, now=later) == []
    assert ctx.redis.zcard(echoes.inflight_key(M)) == 0
    assert ctx.redis.exists(echo_key(M, "lead", lead["id"]))  # its echoes are still expected


def test_unsettled_lists_the_write_backs_in_flight_and_changes_nothing(ctx, monkeypatch):
    import time

    from app.sync import echoes

    assert echoes.unsettled(ctx.redis) == []
    lead, _ = _new_lead(ctx)  # answered: settled, not in flight
    _dead_writer(ctx.redis, monkeypatch, 44, time.time())
    EchoAwareClient(object(), ctx.redis, "member-other")._expect({("deal", 7): 1})
    before = {k: ctx.redis.dump(k) for k in ctx.redis.keys("b24:echo:*")}
    assert sorted(echoes.unsettled(ctx.redis)) == [("member-echo", "lead:44"),
                                                   ("member-other", "deal:7")]  # fmt: skip
    assert echoes.unsettled(ctx.redis, M) == [(M, "lead:44")]
    assert {k: ctx.redis.dump(k) for k in ctx.redis.keys("b24:echo:*")} == before
    # once the sweep has handed the dead writer's record back, nothing is left of it
    echoes.sweep_stale(ctx.redis, M, now=time.time() + echoes.INFLIGHT_MAX + 1)
    assert echoes.unsettled(ctx.redis, M) == []
