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
