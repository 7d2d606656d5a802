"""The fire job against the emulator: the kitchens SOS from a new lead to its cancellation,
re-checks at fire time, and no effect ever twice. Time is a ManualClock."""

from datetime import UTC, datetime, timedelta

import pytest

from app.rules.naming import PlainNaming
from app.store import installations
from app.store.timers import CANCELLED, ENQUEUED, FIRED, PENDING, Timer
from app.sync.context import PortalContext
from app.sync.process import process_record
from app.timers import claims, service
from app.timers.clock import fire_due_inline
from app.timers.clocks import ManualClock
from app.timers.jobs import fire

M = "member-timers-fire"
STAGES = {"lead": {"kitchens.lead.unprocessed": "NEW", "kitchens.lead.assigned": "IN_PROCESS"}}


@pytest.fixture
def world(make_services, emulator):
    services = make_services(emulator_address=emulator.domain)
    with services.session() as s:
        installations.upsert_verified(
            s,
            M,
            domain=emulator.domain,
            auth_mode="webhook",
            webhook_url=emulator.webhook_url(),
            playbooks=["kitchens"],
        )
        s.commit()
    ctx = PortalContext(
        member_id=M,
        session_factory=services.session,
        client=services.portal(M),
        naming=PlainNaming(stages=STAGES),
        redis=services.redis,
        playbooks=("kitchens",),
        settings={"kitchens": {"sos_interval_minutes": 15}},
    )
    return services, ctx, emulator


def _notified(emulator):
    return [(n["to_user_id"], n["message"]) for n in emulator.admin.get("crm/notifications")]


def _new_lead(ctx, title="Кухня Петров"):
    item = ctx.client.call("crm.item.add", {"entityTypeId": 1, "fields": {"title": title}})
    return item["item"]["id"]


def _timers(services, **kw):
    with services.session() as s:
        return [(t.kind, t.state) for t in service.list_timers(s, member_id=M, **kw)]


def test_sos_announces_widens_and_stops_when_a_manager_takes_the_lead(world):
    services, ctx, emu = world
    clock = ManualClock(datetime.now(UTC))
    ctx.now = clock.now
    lead = _new_lead(ctx)
    process_record(ctx, "lead", lead)  # the created event: the SOS timer is started
    assert _timers(services) == [("kitchens.sos", PENDING)]

    fire_due_inline(services, clock, context=ctx)
    assert sorted(u for u, _ in _notified(emu)) == [2, 3, 4]  # the sales department
    fire_due_inline(services, clock, context=ctx)  # nothing new is due yet
    assert len(_notified(emu)) == 3

    clock.advance(timedelta(minutes=15))
    fire_due_inline(services, clock, context=ctx)
    assert sorted(u for u, _ in _notified(emu)[3:]) == [2, 3, 4]  # head (2) is in sales too
    clock.advance(timedelta(minutes=15))
    fire_due_inline(services, clock, context=ctx)
    widest = _notified(emu)[6:]
    assert sorted(u for u, _ in widest) == [1, 2, 3, 4] and "SOS" in widest[0][1]

    ctx.client.call(
        "crm.item.update", {"entityTypeId": 1, "id": lead, "fields": {"assignedById": 3}}
    )
    process_record(ctx, "lead", lead)  # responsible changed: «Менеджер назначен», SOS off
    item = ctx.client.call("crm.item.get", {"entityTypeId": 1, "id": lead})["item"]
    assert item["stageId"] == "IN_PROCESS"
    clock.advance(timedelta(hours=2))
    assert fire_due_inline(services, clock, context=ctx) == []
    assert len(_notified(emu)) == 10
    assert ("kitchens.sos", CANCELLED) in _timers(services)


def test_the_job_rechecks_the_record_and_cancels_when_the_lead_was_taken_meanwhile(world):
    services, ctx, emu = world
    clock = ManualClock(datetime.now(UTC))
    ctx.now = clock.now
    lead = _new_lead(ctx)
    process_record(ctx, "lead", lead)
    # taken in the portal, the event not processed yet: only the fresh read knows
    ctx.client.call(
        "crm.item.update", {"entityTypeId": 1, "id": lead, "fields": {"assignedById": 4}}
    )
    (result,) = fire_due_inline(services, clock, context=ctx)
    assert result["status"] == CANCELLED and "responsible" in result["reason"]
    assert _notified(emu) == []


def test_a_deleted_record_cancels_its_timer(world):
    services, ctx, emu = world
    clock = ManualClock(datetime.now(UTC))
    lead = _new_lead(ctx)
    with services.session() as s:
        service.start_timer(
            s, M, kind="kitchens.sos", due_at=clock.now(), record=("lead", lead), key="k",
            payload={"stage": "kitchens.lead.unprocessed", "started_at": clock.now().isoformat()},
        )  # fmt: skip
        s.commit()
    ctx.client.call("crm.item.delete", {"entityTypeId": 1, "id": lead})
    (result,) = fire_due_inline(services, clock, context=ctx)
    assert result == {"timer": result["timer"], "status": CANCELLED, "reason": "record deleted"}


def test_a_job_run_twice_or_after_a_crash_never_notifies_twice(world):
    services, ctx, emu = world
    clock = ManualClock(datetime.now(UTC))
    ctx.now = clock.now
    lead = _new_lead(ctx)
    process_record(ctx, "lead", lead)
    with services.session() as s:
        (claim,) = claims.claim_due(s, clock.now())
    assert fire(services, claim.timer_id, claim.token, clock=clock, context=ctx)["status"] == FIRED
    # the same job delivered again (RQ retry, duplicate) is stale: the claim is settled
    again = fire(services, claim.timer_id, claim.token, clock=clock, context=ctx)
    assert again["status"] == "stale"
    # a crash after the portal calls but before the row was settled: the lease brings the
    # timer back and it fires again — the action claims turn every effect into a no-op
    with services.session() as s:
        row = s.get(Timer, claim.timer_id)
        row.state, row.claimed_by = ENQUEUED, claim.token
        s.commit()
    redo = fire(services, claim.timer_id, claim.token, clock=clock, context=ctx)
    assert redo["status"] == FIRED and redo["done"] == 0
    assert len(_notified(emu)) == 3
    # and the next SOS step was scheduled exactly once
    assert _timers(services, state=PENDING) == [("kitchens.sos", PENDING)]


def _sos_timer(services, clock, lead):
    with services.session() as s:
        service.start_timer(
            s, M, kind="kitchens.sos", due_at=clock.now(), record=("lead", lead), key=f"k{lead}",
            payload={"stage": "kitchens.lead.unprocessed", "started_at": clock.now().isoformat()},
        )  # fmt: skip
        s.commit()


def test_a_timer_whose_lead_now_belongs_to_another_playbook_is_cancelled(world):
    """Ownership at fire time (``app.timers.jobs._not_ours``): the lead moved into metal's
    own stage after the SOS started, so kitchens may no longer act on it."""
    services, ctx, emu = world
    stages = {"lead": {**STAGES["lead"], "metal.lead.data_complete": "PROCESSED"}}
    ctx = PortalContext(
        member_id=M,
        session_factory=services.session,
        client=services.portal(M),
        naming=PlainNaming(stages=stages),
        redis=services.redis,
        playbooks=("kitchens", "metal"),
        settings={"kitchens": {"sos_interval_minutes": 15}, "metal": {}},
    )
    clock = ManualClock(datetime.now(UTC))
    lead = _new_lead(ctx)
    _sos_timer(services, clock, lead)
    ctx.client.call(
        "crm.item.update", {"entityTypeId": 1, "id": lead, "fields": {"stageId": "PROCESSED"}}
    )
    (result,) = fire_due_inline(services, clock, context=ctx)
    assert result["status"] == CANCELLED and "belongs to metal" in result["reason"]
    assert _notified(emu) == []


def test_a_timer_of_a_playbook_no_longer_installed_is_cancelled(world):
    services, ctx, emu = world
    ctx = PortalContext(
        member_id=M,
        session_factory=services.session,
        client=services.portal(M),
        naming=ctx.naming,
        redis=services.redis,
        playbooks=("metal",),
        settings={"metal": {}},
    )
    clock = ManualClock(datetime.now(UTC))
    lead = _new_lead(ctx)
    _sos_timer(services, clock, lead)
    (result,) = fire_due_inline(services, clock, context=ctx)
    assert result["status"] == CANCELLED and "kitchens is not installed" in result["reason"]
    assert _notified(emu) == []
