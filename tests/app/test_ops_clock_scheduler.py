"""The clock runs RQ's scheduler: delayed jobs and retries reach their queue even when the
worker that held RQ's scheduler lock was killed (its lock expires; no surviving worker may
live long enough to take it over)."""

from __future__ import annotations

from datetime import timedelta

from app.timers.clock import rq_scheduler, schedule_due_jobs


def _delayed(services):
    queue = services.queue("events")
    job = queue.enqueue_in(timedelta(seconds=0), "os.getpid")
    assert job.get_status() == "scheduled" and queue.count == 0
    return queue, job


def test_the_clock_moves_due_delayed_jobs_to_their_queue(services):
    queue, job = _delayed(services)
    scheduler = rq_scheduler(services, "test")
    schedule_due_jobs(scheduler)
    assert queue.count == 1 and job.get_status(refresh=True) == "queued"
    scheduler.release_locks()


def test_a_lock_held_by_a_killed_worker_is_respected_then_taken_over(services):
    queue, job = _delayed(services)
    scheduler = rq_scheduler(services, "test")
    key = scheduler.get_locking_key("events")
    services.redis.set(key, "worker-killed-by-sigkill", ex=61)  # what a dead owner leaves
    schedule_due_jobs(scheduler)
    assert queue.count == 0  # never two schedulers for one queue
    services.redis.delete(key)  # the lock expired
    schedule_due_jobs(scheduler)
    assert queue.count == 1 and job.get_status(refresh=True) == "queued"
    scheduler.release_locks()


def test_redis_down_is_a_warning_not_a_crash(services, caplog):
    import redis

    services.redis = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    schedule_due_jobs(rq_scheduler(services, "test"))
    assert "delayed jobs not scheduled" in caplog.text
