"""enqueue_safety_nets: what the clock enqueues per portal, and how often."""

from app.jobs.events import enqueue_safety_nets
from app.store import installations


def _install(services, member_id, mode, status="active"):
    with services.session() as s:
        installations.upsert_verified(
            s, member_id, domain=f"{member_id}.bitrix24.com", auth_mode=mode, status=status
        )
        s.commit()


def test_catch_up_for_oauth_apps_reconcile_for_all_at_most_once_per_interval(services):
    _install(services, "app1", "oauth")
    _install(services, "hook1", "webhook")
    _install(services, "gone", "oauth", status="uninstalled")
    first = enqueue_safety_nets(services)
    assert sorted(first) == [
        ("catch_up_offline", "app1"),
        ("reconcile", "app1"),
        ("reconcile", "hook1"),
    ]
    assert enqueue_safety_nets(services) == []  # within the interval
    queued = sorted((j.func_name, tuple(j.args)) for j in services.queue("sync").get_jobs())
    assert queued == [
        ("app.jobs.events.catch_up_offline", ("app1",)),
        ("app.jobs.events.reconcile", ("app1",)),
        ("app.jobs.events.reconcile", ("hook1",)),
    ]
    # start-up after downtime: intervals ignored, but jobs still queued are not doubled
    assert enqueue_safety_nets(services, force=True) == []
    services.redis.delete("b24:pending:hook1:reconcile:-:0")  # hook1's reconcile job started
    assert enqueue_safety_nets(services, force=True) == [("reconcile", "hook1")]


def test_a_write_back_that_died_in_flight_gets_its_record_drained(services):
    """A worker killed mid-batch leaves an echo marker "in flight" that may have swallowed a
    person's edit (app.sync.echoes): the tick after INFLIGHT_MAX marks the record dirty and
    enqueues a drain, so it is read again."""
    import time

    from app.sync import dirty, echoes

    _install(services, "app1", "oauth")
    keys = [echoes.inflight_key("app1"), echoes.echo_key("app1", "lead", 7)]
    sent = time.time() - echoes.INFLIGHT_MAX - 1
    services.redis.eval(echoes._EXPECT, 2, *keys, 60, f"{sent:.3f}", "lead:7", 1)
    first = enqueue_safety_nets(services)
    assert ("drain_changes", "app1") in first
    assert [j.func_name for j in services.queue("events").get_jobs()] == [
        "app.jobs.events.drain_changes"
    ]
    assert [e[:2] for e in dirty.take(services.redis, "app1", 10)] == [("lead", 7)]
    assert not services.redis.exists(keys[1])
    # a marker of a batch still within INFLIGHT_MAX is left alone
    services.redis.eval(echoes._EXPECT, 2, *keys, 60, f"{time.time():.3f}", "lead:7", 1)
    assert echoes.sweep_stale(services.redis, "app1") == []
    assert services.redis.exists(keys[1])


def test_a_process_change_job_that_gives_up_for_a_transient_cause_returns_its_record(services):
    """The job took the record out of the drain: when its last try dies (a killed worker, a
    lock, a 500) the record goes back into the dirty set; a real failure stays failed."""
    from rq.exceptions import AbandonedJobError

    from app.jobs.events import back_to_drain_when_exhausted
    from app.portal.errors import InvalidField, ServerError
    from app.queues import default_retry
    from app.sync import dirty

    def job(record_id, retries_left):
        j = services.queue("events").enqueue_call(
            "app.jobs.events.process_change", args=["app1", "lead", record_id],
            retry=default_retry(), on_failure=back_to_drain_when_exhausted,
        )  # fmt: skip
        j.retries_left = retries_left
        return j

    def dirty_ids():
        return sorted(e[1] for e in dirty.take(services.redis, "app1", 10))

    back_to_drain_when_exhausted(job(1, 2), services.redis, None, ServerError("500"), None)
    assert dirty_ids() == []  # RQ retries it itself
    back_to_drain_when_exhausted(job(2, 0), services.redis, None, AbandonedJobError(), None)
    back_to_drain_when_exhausted(job(3, 0), services.redis, None, ServerError("500"), None)
    assert dirty_ids() == [2, 3]
    back_to_drain_when_exhausted(job(4, 3), services.redis, None, InvalidField("bad"), None)
    assert dirty_ids() == [2, 3]  # not retryable: failed for good, in sight
