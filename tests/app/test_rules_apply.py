"""apply_with: one batch, exactly-once effects across replays and crashes, audit, mirror."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from app.rules import actions as A
from app.rules.apply import DONE, DUPLICATE, FAILED, UNCERTAIN, apply_with
from app.rules.naming import PlainNaming
from app.store import audit, mirror
from app.store import task_links as _task_links  # noqa: F401 - created tasks are linked there
from app.store import timers as _timers  # noqa: F401 - its table joins Base.metadata
from app.store.base import Base
from tests.app._events_fakes import FakePortal as _FakePortal

M = "member-1"
NAMING = PlainNaming(
    entity_types={"metal.object": 1220},
    fields={"lead": {"UF_CRM_OBJ_LINK": "ufCrm_OBJ_LINK"}, "metal.object": {"UF_CRM_W": "ufCrm5W"}},
    stages={"lead": {"metal.lead.done": "UC_DONE"}},
)


class FakePortal(_FakePortal):
    def __init__(self):
        super().__init__()
        self.items = {(1, 5): {"id": 5, "stageId": "NEW", "updatedTime": "t0"}}


@pytest.fixture
def sessions():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    return sessionmaker(engine)


def run(sessions, portal, actions, cause="created"):
    return apply_with(
        sessions, portal, NAMING, M, actions, cause=cause, rule="pb.r1", record=("lead", 5)
    )


def test_create_and_link_in_one_batch_then_replay_does_nothing(sessions):
    portal = FakePortal()
    with sessions() as s:
        mirror.put(s, M, "lead", 5, portal.items[(1, 5)])
        s.commit()
    acts = [
        A.CreateRecord(
            "metal.object",
            {"UF_CRM_W": 12},
            link_from=("lead", 5),
            link_field="UF_CRM_OBJ_LINK",
            ref="o",
        ),
        A.MoveStage("lead", 5, "metal.lead.done"),
        A.Notify((7, 8), "object created"),
        A.CreateTask(
            "Call",
            7,
            deadline=datetime(2026, 11, 23, tzinfo=UTC),
            checklist=("a", "b"),
            bind_to=("lead", 5),
        ),
    ]
    report = run(sessions, portal, acts)
    assert [o.status for o in report.outcomes] == [DONE] * 4
    assert len(portal.batches) == 1
    assert (
        portal.items[(1, 5)]["ufCrm_OBJ_LINK"] == 101
        and portal.items[(1, 5)]["stageId"] == "UC_DONE"
    )
    assert portal.items[(1220, 101)]["ufCrm5W"] == 12
    assert portal.notes[:2] == [(7, "object created"), (8, "object created")]
    assert [n[2] for n in portal.notes[2:]] == ["a", "b"]
    with sessions() as s:  # the mirror holds what we wrote: the echo diffs to nothing
        assert mirror.get(s, M, "lead", 5) == portal.items[(1, 5)]
        assert mirror.get(s, M, "metal.object", 101)["ufCrm5W"] == 12

    again = run(sessions, portal, acts)
    assert [o.status for o in again.outcomes] == [DUPLICATE] * 4
    assert len(portal.batches) == 1 and len(portal.notes) == 4
    with sessions() as s:
        rows = audit.for_record(s, M, "lead", 5)
    assert [r.status for r in rows] == [DONE] * 4 + [DUPLICATE] * 4
    assert {r.rule for r in rows} == {"pb.r1"} and rows[0].cause == "created"


def test_a_different_cause_is_a_new_effect(sessions):
    portal = FakePortal()
    run(sessions, portal, [A.Notify((7,), "x")], cause="c1")
    run(sessions, portal, [A.Notify((7,), "x")], cause="c2")
    assert portal.notes == [(7, "x"), (7, "x")]


def test_failed_action_is_audited_and_retried_next_time_others_are_not(sessions):
    portal = FakePortal()
    portal.fail_methods = {"im.notify.system.add"}
    acts = [A.MoveStage("lead", 5, "metal.lead.done"), A.Notify((7,), "x")]
    report = run(sessions, portal, acts)
    assert [o.status for o in report.outcomes] == [DONE, FAILED]
    assert report.failed[0].error == "ACCESS_DENIED: no"
    portal.fail_methods = set()
    retry = run(sessions, portal, acts)
    assert [o.status for o in retry.outcomes] == [DUPLICATE, DONE]
    assert portal.notes == [(7, "x")]


def test_crash_after_claim_repeats_only_harmless_actions(sessions):
    """A stage move is sent again; a notification too, with the same TAG (the portal
    replaces the first: im-notify-system-add.md); a timer is started (once per key: the
    settle that would have made it never committed); a chat message is not (at most once)."""
    from app.store.timers import Timer

    portal = FakePortal()
    due = datetime(2026, 12, 1, tzinfo=UTC)
    acts = [
        A.MoveStage("lead", 5, "metal.lead.done"),
        A.ChatMessage("chat9", "x"),
        A.Notify((7,), "n"),
        A.StartTimer("remind", due, ("lead", 5)),
    ]

    class Crash(Exception):
        pass

    class DyingPortal(FakePortal):
        def batch(self, cmd, halt=False):
            super().batch(cmd, halt)
            raise Crash  # the portal did it, we never recorded it

    dying = DyingPortal()
    with pytest.raises(Crash):
        run(sessions, dying, acts)
    report = run(sessions, portal, acts)
    assert [o.status for o in report.outcomes] == [DONE, UNCERTAIN, DONE, DONE]
    assert portal.chat == [] and dying.chat == [("chat9", "x")]
    assert portal.notes == dying.notes == [(7, "n")]
    assert portal.note_tags == dying.note_tags and portal.note_tags[0].endswith(":7")
    assert run(sessions, portal, acts).outcomes[3].status == DUPLICATE
    with sessions() as s:
        claims = s.scalars(select(audit.ActionClaim)).all()
        timers = s.scalars(select(Timer)).all()
    assert sorted(c.status for c in claims) == ["done", "done", "done", "pending"]
    assert [(t.kind, t.record_id) for t in timers] == [("remind", 5)]


def test_timers_start_once_per_key_and_a_ref_record_is_refused(sessions):
    from app.store.timers import Timer

    portal = FakePortal()
    due = datetime(2026, 12, 1, tzinfo=UTC)
    acts = [
        A.StartTimer("remind", due, ("lead", 5), {"n": 1}),
        A.StartTimer("remind", due, ("lead", A.Ref("x"))),
    ]
    report = run(sessions, portal, acts)
    assert [o.status for o in report.outcomes] == [DONE, FAILED]
    assert report.outcomes[1].error.startswith("timer refused")
    assert run(sessions, portal, acts[:1]).outcomes[0].status == DUPLICATE
    with sessions() as s:
        timers = s.scalars(select(Timer)).all()
    assert [(t.kind, t.entity, t.record_id, t.payload) for t in timers] == [
        ("remind", "lead", 5, {"n": 1})
    ]
    assert portal.batches == []


def test_event_entity_names_match_what_the_portal_events_carry():
    from app.rules.apply import event_entity
    from app.rules.naming import PlainNaming

    naming = PlainNaming(entity_types={"metal.object": 1220})
    assert event_entity(naming, "deal") == "deal"
    assert event_entity(naming, "activity") == "activity"  # not a smart process
    assert event_entity(naming, "metal.object") == "dynamic:1220"
    assert event_entity(naming, "dynamic:1220") == "dynamic:1220"


def test_a_batch_refused_whole_is_sent_again_by_the_retry(sessions):
    """A 503 QUERY_LIMIT_EXCEEDED (or a token/access refusal) means the portal ran nothing:
    the claims are released, so the retried job creates the record instead of leaving it
    "uncertain" forever (found by bench/chaos.py: a conversion lost its deal)."""
    from app.portal.errors import RateLimited, ServerError

    acts = [A.CreateRecord("metal.object", {"UF_CRM_W": 12}, ref="o"), A.Notify((7,), "x")]

    class Refusing(FakePortal):
        error = RateLimited

        def batch(self, cmd, halt=False):
            raise self.error("QUERY_LIMIT_EXCEEDED")

    with pytest.raises(RateLimited):
        run(sessions, Refusing(), acts)
    portal = FakePortal()
    assert [o.status for o in run(sessions, portal, acts).outcomes] == [DONE, DONE]
    assert portal.notes == [(7, "x")]

    uncertain = Refusing()
    uncertain.error = ServerError  # a 500 may have been applied: looked up, not blindly sent
    with pytest.raises(ServerError):
        run(sessions, uncertain, acts, cause="other")
    before = [k for k in portal.items if k[0] == 1220]
    retry = run(sessions, portal, acts, cause="other").outcomes
    assert [o.status for o in retry] == [DONE, DONE]  # not found → created; note tagged
    assert len([k for k in portal.items if k[0] == 1220]) == len(before) + 1
    assert portal.notes == [(7, "x"), (7, "x")]  # one per cause


def test_a_record_created_for_the_rules_is_left_to_its_add_event(sessions):
    """``CreateRecord(run_rules=True)`` (an open-line lead's order, #17): neither the mirror
    nor the "ours" markers learn the new deal — not from its own answer, not from the link
    written to it — so its ADD event runs the rules as for a deal a person created. A plain
    CreateRecord next to it is mirrored as before."""
    from app.rules.apply import created_records

    portal = FakePortal()
    acts = [
        A.CreateRecord("deal", {"title": "Заказ"}, ref="d", key="d", run_rules=True),
        A.CreateRecord("contact", {"name": "Олег"}, ref="c", key="c"),
        A.LinkRecords(("deal", A.Ref("d")), ("contact", A.Ref("c")), via="contactId", key="l"),
    ]
    report = run(sessions, portal, acts)
    assert [o.status for o in report.outcomes] == [DONE] * 3
    deal_id, contact_id = (o.result["id"] for o in report.outcomes[:2])
    assert portal.items[(2, deal_id)]["contactId"] == contact_id  # written on the portal
    with sessions() as s:
        assert mirror.get(s, M, "deal", deal_id) is None
        assert mirror.get(s, M, "contact", contact_id)["name"] == "Олег"
    assert created_records([report], NAMING) == [("contact", contact_id)]


def test_a_create_that_cannot_be_looked_up_stays_uncertain_and_is_not_sent(sessions):
    """The look-up of a pending create failing (a refused list) decides nothing: the create
    is neither sent blind nor settled; a later retry looks again and finds it."""
    acts = [A.CreateRecord("metal.object", {"UF_CRM_W": 12}, ref="o")]

    class Dying(FakePortal):
        def batch(self, cmd, halt=False):
            super().batch(cmd, halt)
            raise RuntimeError("killed")

    portal = Dying()
    with pytest.raises(RuntimeError):
        run(sessions, portal, acts)
    made = [k for k in portal.items if k[0] == 1220]
    healthy = FakePortal()
    healthy.items = portal.items
    healthy.fail_methods = {"crm.item.list"}
    assert [o.status for o in run(sessions, healthy, acts).outcomes] == [UNCERTAIN]
    assert [k for k in healthy.items if k[0] == 1220] == made
    healthy.fail_methods = set()
    retry = run(sessions, healthy, acts).outcomes
    assert [(o.status, o.result) for o in retry] == [(DONE, {"id": made[0][1]})]
    assert [k for k in healthy.items if k[0] == 1220] == made
