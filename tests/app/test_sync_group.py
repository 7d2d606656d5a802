"""Records processed together (app.sync.group): shared reads, shared write batches, the same
keys as one at a time, and the two rules that keep the result the same (apply pending
actions first when a store lookup could see them; defer a record read before our writes).

In-memory portal (tests/app/_events_fakes.py), real Redis, SQLite store."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from app.rules import dispatch
from app.rules.actions import MoveStage, Notify, UpdateFields
from app.rules.model import Rule, on_created, on_stage_entered
from app.rules.naming import PlainNaming
from app.store import audit
from app.store.base import Base
from app.sync import gather
from app.sync.context import PortalContext
from app.sync.fetch import fetch_records
from app.sync.group import DEFERRED, process_records
from tests.app._events_fakes import FakePortal

M = "member-group"
NAMING = PlainNaming(stages={"lead": {"t.new": "NEW", "t.qualified": "UC_Q"}})


def _qualify(ctx):
    return [
        MoveStage("lead", ctx.change.record_id, "t.qualified"),
        UpdateFields("lead", ctx.change.record_id, {"title": f"Q{ctx.change.record_id}"}),
    ]


@pytest.fixture
def ctx(redis_conn):
    dispatch.register("groupbook", [Rule("qualify", "lead", on_stage_entered("t.new"), _qualify)])
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield PortalContext(
        member_id=M,
        session_factory=sessionmaker(engine),
        client=FakePortal(),
        naming=NAMING,
        redis=redis_conn,
        playbooks=("groupbook",),
        now=lambda: datetime(2026, 11, 22, tzinfo=UTC),
    )
    for name in ("groupbook", "touchy", "lookup"):
        dispatch.unregister(name)


def test_many_records_share_read_batches_of_at_most_50_commands(ctx):
    portal = ctx.client
    leads = [portal.add(1, title=f"L{n}", companyId=7) for n in range(30)]
    portal.add(4, title="Company")  # id 131: not 7, so the chained read finds nothing
    wanted = [("lead", lead["id"], ("company",)) for lead in leads]
    got = fetch_records(portal, NAMING, wanted)
    # 30 records × (record + company) = 60 commands: two batches, each record's pair in one
    assert [len(cmd) for cmd in portal.batches] == [50, 10]
    first = portal.batches[0]
    assert first["r0_0"] == (
        "crm.item.get",
        {"entityTypeId": 4, "id": "$result[r0][item][companyId]"},
    )
    assert all(got[("lead", lead["id"])].record["title"] == lead["title"] for lead in leads)


def test_a_group_is_read_once_and_written_back_in_one_batch_with_per_record_keys(ctx):
    portal = ctx.client
    leads = [portal.add(1, title=f"L{n}")["id"] for n in range(3)]
    out = process_records(ctx, [("lead", rid) for rid in leads])
    assert [out[("lead", rid)].actions_done for rid in leads] == [2, 2, 2]
    assert len(portal.batches) == 2  # one read of the three, one write of their 6 commands
    assert all(portal.items[(1, rid)]["title"] == f"Q{rid}" for rid in leads)
    # the same keys as one at a time: a replay of the group finds every action done
    for rid in leads:
        portal.items[(1, rid)]["stageId"] = "NEW"  # as if the events were replayed
    with ctx.session_factory() as s:
        assert all(audit.for_record(s, M, "lead", rid) for rid in leads)


def _touch_neighbour(ctx):
    # lead n's rule writes lead n+1: its read in the same group is older than this write
    rid = ctx.change.record_id
    return [UpdateFields("lead", rid + 1, {"comments": f"from {rid}"})]


def test_a_record_written_by_an_earlier_record_of_the_group_is_deferred(ctx):
    dispatch.register("touchy", [Rule("touch", "lead", on_created(), _touch_neighbour)])
    ctx = replace(ctx, playbooks=("touchy",))
    portal = ctx.client
    a, b = portal.add(1, title="A")["id"], portal.add(1, title="B")["id"]
    assert b == a + 1
    out = process_records(ctx, [("lead", a), ("lead", b)])
    assert out[("lead", a)].actions_done == 1
    assert out[("lead", b)] is DEFERRED  # processed next round, from a fresh read
    reads = len(portal.batches)
    again = process_records(ctx, [("lead", b)])
    assert len(portal.batches) == reads + 1  # read again
    # as one at a time: A's write stored B in the mirror as the portal answered it, so B's
    # own read finds nothing new (and its stale read could not disagree with that)
    assert again[("lead", b)].changes == []
    assert portal.items[(1, b)]["comments"] == f"from {a}"


LOOKUP = "test.lookup"


def _with_lookup(ctx):
    return [Notify((1,), f"{ctx.change.record_id}: {ctx.related[LOOKUP]}")]


@pytest.mark.parametrize("declared", [False, True])
def test_a_store_lookup_sees_earlier_records_actions_unless_they_cannot_conflict(ctx, declared):
    seen = []

    def lookup(env):
        seen.append(env.record_id)
        return len(seen)

    conflicts = (lambda pending, env: False) if declared else None
    gather.provider(LOOKUP, conflicts=conflicts)(lookup)
    rule = Rule("look", "lead", on_created(), _with_lookup, needs=(LOOKUP,))
    dispatch.register("lookup", [rule])
    ctx = replace(ctx, playbooks=("lookup",))
    portal = ctx.client
    leads = [portal.add(1, title=f"L{n}")["id"] for n in range(3)]
    reads = len(portal.batches)
    process_records(ctx, [("lead", rid) for rid in leads])
    writes = len(portal.batches) - reads - 1
    # undeclared: any pending action could change the lookup, so each record's actions
    # are applied before the next is decided (one write per record); declared harmless:
    # all three go out together
    assert writes == (1 if declared else 3)
    gather._PROVIDERS.pop(LOOKUP), gather._CONFLICTS.pop(LOOKUP, None)
