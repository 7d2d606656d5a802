"""A drain whose portal's bucket is empty hands its turn back instead of sleeping in the
worker, when another job waits in the events queue (app.jobs.events._hand_back,
docs/events.md "Handing the turn back").

Metal portal (emulator + real installer + our app over HTTP + a real RQ SimpleWorker): a
web-form lead arrives, its events schedule a drain; the portal's shared bucket is then
filled (as a burst of earlier calls would leave it) and another portal's job waits behind
the drain. The worker runs the queue once: the drain must step aside (scheduled in RQ's
ScheduledJobRegistry, the flag kept up), the other job must run while the lead is still
unprocessed, and once the delayed drain is due the lead is routed as usual."""

from __future__ import annotations

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from app.sync import dirty
from tests.e2e._metal_world import metal_world
from tests.support.workers import work_until_idle

pytestmark = pytest.mark.e2e

OTHER_RUNS = "test:handback:other_runs"  # what the other job saw, in Redis (the worker may
# import this module under another name than pytest did)


def other_portal_job(member_id: str) -> None:
    """Stands for another portal's drain: notes how many of ``member_id``'s records were
    still dirty when it ran."""
    from app.services import current

    redis = current().redis
    redis.rpush(OTHER_RUNS, redis.zcard(dirty.dirty_key(member_id)))


@pytest.fixture
def world(tmp_path, redis_url):
    import app.jobs.events as jobs

    assert jobs.HANDBACK_ENABLED  # on by default: this is what every deployment runs
    yield from metal_world(tmp_path, redis_url)


def _fill_bucket(w, over: float) -> None:
    """Leave the portal's shared bucket ``over`` requests above what events may use (the
    gateway's hash, app.portal.limiter), stamped with Redis's clock as the limiter does."""
    client = w.services.portal(w.member_id)
    sec, usec = w.services.redis.time()
    level = client.limits.capacity("events") + over
    w.services.redis.hset(
        f"b24:gw:bucket:{w.member_id}", mapping={"level": level, "ts": sec + usec / 1e6}
    )


def _webform_lead(w, email: str, **fields) -> int:
    """A metal web-form lead (``fields`` by their UF code: WIDTH=12 …) whose events have
    reached the app and scheduled its drain; the drain has not run."""
    lead = w.lead_from(
        "webform", email=email, **{w.uf("lead", f"UF_CRM_MT_{k}"): v for k, v in fields.items()}
    )
    w.emu.wait_deliveries(10)
    return lead


def test_a_drain_on_an_empty_bucket_hands_its_turn_back_and_processes_later(world):
    w = world
    area = w.uf("lead", "UF_CRM_MT_AREA")
    lead = _webform_lead(
        w, "handback@mail.ru", WIDTH=12, LENGTH=30, HEIGHT=6, SITE="Казань, участок 1"
    )
    events = w.services.queue("events")
    assert events.count == 1  # the lead's drain
    # 6 requests over at 2/s: a round's read and write would wait ~4 s
    _fill_bucket(w, over=6)
    events.enqueue(
        "tests.e2e.test_drain_handback.other_portal_job", args=[w.member_id]
    )  # queued behind the drain

    worker = SimpleWorker([events], connection=w.services.redis, serializer=JSONSerializer)
    worker.work(burst=True)

    assert w.services.redis.lrange(OTHER_RUNS, 0, -1) == [
        b"1"
    ]  # the other job ran while the lead was still dirty
    scheduled = events.scheduled_job_registry.get_job_ids()
    assert len(scheduled) == 1
    job = events.fetch_job(scheduled[0])
    assert job.func_name == "app.jobs.events.drain_changes" and job.args == [w.member_id]
    assert 1.0 < job.meta["handed_back"] <= 4.5
    assert job.retry_intervals  # the usual retry policy
    # the flag stays up meanwhile: neither an event nor the clock starts a second drain
    assert w.services.redis.ttl(dirty.flag_key(w.member_id)) > dirty.FLAG_TTL
    assert not dirty.schedule_if_idle(w.services.redis, w.member_id)
    assert not w.item(1, lead).get(area)  # not processed yet

    work_until_idle(w.services)  # the delayed drain falls due and runs
    w.settle()
    assert float(w.item(1, lead)[area]) == 360.0
    assert not w.services.redis.exists(dirty.dirty_key(w.member_id))
    assert not events.scheduled_job_registry.get_job_ids()


def test_with_no_other_job_waiting_the_drain_does_not_hand_back(world):
    """Sleeping in the limiter costs nobody then: the lead is processed in the same run."""
    w = world
    area = w.uf("lead", "UF_CRM_MT_AREA")
    lead = _webform_lead(w, "alone@mail.ru", WIDTH=10, LENGTH=20)
    _fill_bucket(w, over=3)
    events = w.services.queue("events")
    SimpleWorker([events], connection=w.services.redis, serializer=JSONSerializer).work(burst=True)
    assert not events.scheduled_job_registry.get_job_ids()
    assert float(w.item(1, lead)[area]) == 200.0
