"""process_record, offline catch-up and reconciliation against an in-memory portal."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from app.rules import dispatch
from app.rules.actions import CreateRecord, MoveStage, Notify, UpdateFields
from app.rules.model import Rule, on_created, on_field_changed, on_stage_entered
from app.rules.naming import PlainNaming
from app.store import audit, mirror
from app.store.base import Base
from app.sync import offline, reconcile
from app.sync.context import PortalContext
from app.sync.process import process_record
from tests.app._events_fakes import FakePortal

M = "member-1"
NAMING = PlainNaming(stages={"lead": {"t.new": "NEW", "t.qualified": "UC_Q"}})


def _welcome(ctx):
    return [Notify((ctx.settings["head"],), f"new lead {ctx.change.record_id}")]


def _qualify(ctx):
    # writes back to the record: its echo must not trigger anything
    return [
        MoveStage("lead", ctx.change.record_id, "t.qualified"),
        UpdateFields("lead", ctx.change.record_id, {"title": "Q"}),
    ]


def _on_title(ctx):
    return [Notify((99,), "title changed")]


RULES = [
    Rule("welcome", "lead", on_created(), _welcome),
    Rule("qualify", "lead", on_stage_entered("t.new"), _qualify),
    Rule("on_title", "lead", on_field_changed("title"), _on_title),
]


@pytest.fixture
def ctx(redis_conn):
    dispatch.register("tbook", RULES)
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    portal = FakePortal()
    yield PortalContext(
        member_id=M,
        session_factory=sessionmaker(engine),
        client=portal,
        naming=NAMING,
        redis=redis_conn,
        playbooks=("tbook",),
        settings={"tbook": {"head": 7}},
        now=lambda: datetime(2026, 11, 22, tzinfo=UTC),
    )
    dispatch.unregister("tbook")


def test_new_lead_reaches_rules_once_and_our_writes_do_not_echo(ctx):
    portal = ctx.client
    lead = portal.add(1, title="L")
    first = process_record(ctx, "lead", lead["id"])
    assert sorted(first.rules) == ["tbook.qualify", "tbook.welcome"]
    assert portal.notes == [(7, f"new lead {lead['id']}")]
    assert portal.items[(1, lead["id"])]["stageId"] == "UC_Q"
    writes = len(portal.batches)
    # one read batch, then both rules' actions together in one write batch
    assert writes == 2 and set(portal.batches[0]) == {"rec"}

    # the portal now sends ONCRMLEADUPDATE for our own write, and the ADD event is replayed
    for _ in range(3):
        echo = process_record(ctx, "lead", lead["id"])
        assert echo.changes == [] and echo.rules == []
    assert portal.notes == [(7, f"new lead {lead['id']}")]
    # only reads (one batch each), no writes
    assert all(set(cmd) == {"rec"} for cmd in portal.batches[writes:])


def test_a_real_change_after_ours_still_fires(ctx):
    portal = ctx.client
    lead = portal.add(1, title="L", stageId="UC_Q")
    process_record(ctx, "lead", lead["id"])
    portal.crm_item_update({"entityTypeId": 1, "id": lead["id"], "fields": {"title": "by a human"}})
    result = process_record(ctx, "lead", lead["id"])
    assert result.changes == ["field_changed"]
    assert portal.notes[-1] == (99, "title changed")


def test_crash_before_snapshot_then_retry_does_not_duplicate(ctx, monkeypatch):
    portal = ctx.client
    lead = portal.add(1, title="L", stageId="OTHER")

    def boom(*a, **k):
        raise RuntimeError("worker died")

    monkeypatch.setattr("app.sync.process._store", boom)
    with pytest.raises(RuntimeError):
        process_record(ctx, "lead", lead["id"])
    monkeypatch.undo()
    retry = process_record(ctx, "lead", lead["id"])
    assert retry.duplicates == 1 and retry.actions_done == 0
    assert portal.notes == [(7, f"new lead {lead['id']}")]


def test_deleted_record_is_marked_in_the_mirror(ctx):
    portal = ctx.client
    lead = portal.add(1, stageId="OTHER")
    process_record(ctx, "lead", lead["id"])
    del portal.items[(1, lead["id"])]
    assert process_record(ctx, "lead", lead["id"]).changes == ["deleted"]
    with ctx.session_factory() as s:
        assert mirror.get(s, M, "lead", lead["id"]) is None


def test_rule_error_is_audited_and_others_still_apply(ctx):
    dispatch.register("tbook", RULES + [Rule("bad", "lead", on_created(), lambda c: 1 / 0)])
    ctx.table = dispatch.table_for(ctx.playbooks)
    lead = ctx.client.add(1, stageId="OTHER")
    result = process_record(ctx, "lead", lead["id"])
    assert result.errors == ["tbook.bad: ZeroDivisionError: division by zero"]
    assert ctx.client.notes == [(7, f"new lead {lead['id']}")]
    with ctx.session_factory() as s:
        statuses = {(r.rule, r.status) for r in audit.for_record(s, M, "lead", lead["id"])}
    assert ("tbook.bad", "error") in statuses and ("tbook.welcome", "done") in statuses


def _row(n, event, rid, **extra):
    return {
        "ID": str(n),
        "EVENT_NAME": event,
        "EVENT_DATA": {"FIELDS": {"ID": str(rid), **extra}},
        "MESSAGE_ID": f"m{n:031d}",
    }


def test_offline_catch_up_processes_each_record_once_and_clears_or_marks_errors(ctx):
    portal = ctx.client
    a = portal.add(1, stageId="OTHER")
    b = portal.add(1, stageId="OTHER")
    portal.offline = [
        _row(1, "ONCRMLEADADD", a["id"]),
        _row(2, "ONCRMLEADUPDATE", a["id"]),
        _row(3, "ONCRMLEADADD", b["id"]),
        _row(4, "ONCRMLEADADD", 424242),  # read fails below
        _row(5, "ONTASKADD", 1),
    ]
    seen = []

    def process(c, entity, rid):
        if rid == 424242:
            raise RuntimeError("portal hiccup")
        seen.append((entity, rid))
        return process_record(c, entity, rid)

    result = offline.catch_up(ctx, process=process)
    assert sorted(seen) == [("lead", a["id"]), ("lead", b["id"])]
    assert result.rows == 5 and result.failed_rows == 1
    assert [r["ID"] for r in portal.offline] == ["4"] and portal.offline[0]["_error"]
    assert sorted(n[1] for n in portal.notes) == [f"new lead {a['id']}", f"new lead {b['id']}"]


def test_reconcile_baselines_first_then_processes_only_records_the_mirror_missed(ctx):
    portal = ctx.client
    old = portal.add(1, stageId="OTHER")
    first = reconcile.reconcile(ctx)
    assert (first.baselined, first.processed) == (1, 0)  # no rules for what existed before
    assert portal.notes == []
    missed = portal.add(1, stageId="OTHER")  # its event was lost
    second = reconcile.reconcile(ctx)
    assert second.processed == 1
    assert portal.notes == [(7, f"new lead {missed['id']}")]
    assert reconcile.reconcile(ctx).processed == 0
    with ctx.session_factory() as s:
        assert mirror.get(s, M, "lead", old["id"]) is not None


def test_a_baseline_of_an_empty_portal_is_not_taken_again_later(ctx):
    """Installed on an empty portal, the first reconcile finds nothing to mirror; a later
    one must not baseline again (mirroring rule-less the change of a record whose event is
    still being processed, or failed) but process what came since."""
    portal = ctx.client
    assert reconcile.reconcile(ctx).baselined == 0
    lead = portal.add(1, stageId="OTHER")  # its event failed / is still being retried
    later = reconcile.reconcile(ctx)
    assert (later.baselined, later.processed) == (0, 1)
    assert portal.notes == [(7, f"new lead {lead['id']}")]
    assert reconcile.reconcile(ctx).processed == 0


def test_records_created_before_the_installation_are_mirrored_without_rules(ctx):
    portal = ctx.client
    old = portal.add(1, stageId="OTHER", createdTime="2026-01-01T10:00:00+03:00")
    new = portal.add(1, stageId="OTHER", createdTime="2026-11-22T10:00:00+03:00")
    ctx.baseline = datetime(2026, 6, 1, tzinfo=UTC)
    assert process_record(ctx, "lead", old["id"]).changes == ["baseline"]
    assert process_record(ctx, "lead", new["id"]).changes == ["created", "stage_entered"]
    assert portal.notes == [(7, f"new lead {new['id']}")]
    portal.crm_item_update({"entityTypeId": 1, "id": old["id"], "fields": {"title": "edited"}})
    assert process_record(ctx, "lead", old["id"]).changes == ["field_changed"]


def _spawn(ctx):
    return [CreateRecord("deal", {"title": f"from {ctx.change.record_id}"})]


def test_the_echo_of_a_record_we_created_costs_no_read(ctx):
    dispatch.register("spawn", [Rule("spawn", "lead", on_created(), _spawn)])
    try:
        ctx = replace(ctx, playbooks=("spawn",))
        portal = ctx.client
        lead = portal.add(1, title="L")
        process_record(ctx, "lead", lead["id"])
        deal_id = max(rid for (etid, rid) in portal.items if etid == 2)
        reads = len(portal.batches)
        echo = process_record(ctx, "deal", deal_id)  # the deal's ADD event comes back
        assert echo.changes == ["ours"] and len(portal.batches) == reads
        # only once: the next event of that deal is a person's change and is read
        process_record(ctx, "deal", deal_id)
        assert len(portal.batches) == reads + 1
    finally:
        dispatch.unregister("spawn")


def test_reconcile_hands_a_record_that_failed_transiently_to_the_drain(ctx):
    """A 500 on one record must not fail the whole run (a reconcile that failed for good
    waited its full interval while the portal moved on: bench/chaos.py); the record goes
    to the event drain at once, the watermark stays so nothing can be lost."""
    from app.portal.errors import AccessDenied, ServerError
    from app.sync import dirty

    portal = ctx.client
    assert reconcile.reconcile(ctx).baselined == 0  # empty portal at install
    flaky, denied, fine = (portal.add(1, stageId="OTHER") for _ in range(3))

    def process(c, entity, record_id):
        if record_id == flaky["id"]:
            raise ServerError("INTERNAL_SERVER_ERROR in batch")
        if record_id == denied["id"]:
            raise AccessDenied("no access")
        return process_record(c, entity, record_id)

    with ctx.session_factory() as s:
        before = mirror.checkpoint(s, M, "lead", reconcile.MODE).last_modified
    result = reconcile.reconcile(ctx, process=process)
    assert (result.processed, result.handed) == (1, 1)
    assert len(result.errors) == 1 and "no access" in result.errors[0]
    assert [e[:2] for e in dirty.take(ctx.redis, M, 10)] == [("lead", flaky["id"])]
    with ctx.session_factory() as s:
        assert mirror.checkpoint(s, M, "lead", reconcile.MODE).last_modified == before
    # the next run lists them again: the one processed costs nothing, the others are retried
    again = reconcile.reconcile(ctx)
    assert again.processed == 2 and not again.errors and not again.handed
    assert sorted(n[1] for n in portal.notes) == sorted(
        f"new lead {r['id']}" for r in (flaky, denied, fine)
    )


def test_offline_catch_up_hands_a_transient_failure_to_the_drain_not_to_error_rows(ctx):
    """A 500 while processing an offline row's record: the row is cleared and the record
    goes to the event drain (retried within seconds), not left as an error row that only the
    reconciliation would ever make up for."""
    from app.portal.errors import ServerError
    from app.sync import dirty

    portal = ctx.client
    lead = portal.add(1, stageId="OTHER")
    portal.offline = [_row(1, "ONCRMLEADADD", lead["id"])]

    def process(c, entity, rid):
        raise ServerError("INTERNAL_SERVER_ERROR in batch")

    result = offline.catch_up(ctx, process=process)
    assert (result.handed, result.failed_rows, result.records) == (1, 0, 0)
    assert portal.offline == []  # cleared: the drain owes the record now
    assert [e[:2] for e in dirty.take(ctx.redis, M, 10)] == [("lead", lead["id"])]


def test_the_periodic_reconcile_hands_what_the_mirror_missed_to_the_drain(ctx):
    """``hand_over``: the job only lists; the drain reads the missed records together. The
    watermark stops at the oldest record handed over, so one the drain loses (Redis flushed)
    is listed again; once mirrored it is skipped and the watermark moves on."""
    from app.sync import dirty
    from app.sync.group import process_records

    portal = ctx.client
    assert reconcile.reconcile(ctx).baselined == 0  # empty portal at install
    missed = [portal.add(1, stageId="OTHER") for _ in range(3)]
    handed = reconcile.reconcile(ctx, hand_over=True)
    assert (handed.handed, handed.processed) == (3, 0)
    assert portal.notes == []  # nothing read or decided by the job itself
    taken = dirty.take(ctx.redis, M, 10)
    assert sorted(e[1] for e in taken) == sorted(r["id"] for r in missed)
    # the drain loses them (Redis flushed): the next run hands them over again
    ctx.redis.flushdb()
    assert reconcile.reconcile(ctx, hand_over=True).handed == 3
    outcomes = process_records(ctx, [(e[0], e[1]) for e in dirty.take(ctx.redis, M, 10)])
    assert all(not isinstance(o, Exception) for o in outcomes.values())
    assert sorted(n[1] for n in portal.notes) == sorted(f"new lead {r['id']}" for r in missed)
    # mirrored now: only the watermark's own second is re-read (as inline), and the
    # watermark moves on to the newest, so even that is not handed over a third time
    assert reconcile.reconcile(ctx, hand_over=True).handed == 1
    dirty.done(ctx.redis, M, dirty.take(ctx.redis, M, 10))
    assert reconcile.reconcile(ctx, hand_over=True).handed == 1  # the newest, its own second
    with ctx.session_factory() as s:
        mark = mirror.checkpoint(s, M, "lead", reconcile.MODE).last_modified
    assert mark == portal.items[(1, missed[-1]["id"])]["updatedTime"]
    assert len(portal.notes) == 3
