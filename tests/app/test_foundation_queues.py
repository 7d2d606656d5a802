"""Queues: plain JSON arguments only, priority order, and the one retry policy."""

from __future__ import annotations

from datetime import datetime

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from app.queues import QUEUES, enqueue
from app.worker import parse_args


def test_priority_order_is_kept_whatever_is_typed():
    assert QUEUES[0] == "robots" and QUEUES[-1] == "bulk"
    assert parse_args(["--queues", "bulk,robots,events"]).queue_names == [
        "robots",
        "events",
        "bulk",
    ]
    with pytest.raises(SystemExit):
        parse_args(["--queues", "nope"])


def test_non_plain_arguments_are_refused(services):
    with pytest.raises(TypeError):
        enqueue(services, "events", "app.jobs.x", datetime.now())
    with pytest.raises(TypeError):
        enqueue(services, "events", "app.jobs.x", member=object())
    with pytest.raises(ValueError):
        enqueue(services, "nowhere", "app.jobs.x", 1)
    assert services.queue("events").count == 0


def test_json_round_trip_and_retry_policy(services):
    job = enqueue(services, "events", "tests.app._foundation_jobs.fail_with", "TokenInvalid")
    assert job.retries_left == 3
    fetched = services.queue("events").fetch_job(job.id)
    assert fetched.args == ["TokenInvalid"]


@pytest.mark.parametrize(("error", "retried"), [("RateLimited", True), ("TokenInvalid", False)])
def test_only_retryable_failures_are_retried(services, error, retried):
    job = enqueue(services, "events", "tests.app._foundation_jobs.fail_with", error)
    worker = SimpleWorker(
        [services.queue("events")], connection=services.redis, serializer=JSONSerializer
    )
    worker.work(burst=True)
    job.refresh()
    if retried:
        assert job.get_status() in ("scheduled", "queued") and job.retries_left == 2
    else:
        assert job.get_status() == "failed"
