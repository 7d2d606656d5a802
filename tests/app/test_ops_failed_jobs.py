"""Failed jobs in sight: ``/metrics`` counts them per queue and portal, ``b24 jobs failed``
lists them, ``b24 jobs requeue`` puts them back once the cause is fixed, and rq-dashboard
(run as its own process, behind basic auth) shows them from the same Redis with RQ 3.0.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests

from app.queues import enqueue
from app.worker import build_worker
from tests.support.private_redis import free_port

JOB = "tests.support.flaky_jobs.needs_file"
PORTAL_A = "a" * 32
PORTAL_B = "b" * 32


@pytest.fixture
def cli(flask_app):
    runner = flask_app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["b24", "jobs", *args])

    return invoke


def _drain(services):
    """A real RQ worker (the app's own class) runs the queue until it is empty."""
    build_worker(services, ["events"], name=f"t-{time.monotonic_ns()}").work(burst=True)


def test_a_job_failing_for_good_is_listed_counted_requeued_and_then_succeeds(
    services, flask_client, cli, tmp_path
):
    marker = tmp_path / "price-list.txt"
    failing = enqueue(services, "events", JOB, PORTAL_A, str(marker))
    other = enqueue(services, "events", JOB, PORTAL_B, str(tmp_path / "never.txt"))
    _drain(services)
    assert failing.get_status(refresh=True) == "failed" and other.get_status() == "failed"

    metrics = flask_client.get("/metrics").get_data(as_text=True)
    assert 'b24app_failed_jobs{queue="events"} 2.0' in metrics
    assert 'b24app_failed_jobs{queue="robots"} 0.0' in metrics
    assert f'b24app_failed_jobs_by_portal{{portal="{PORTAL_A}",queue="events"}} 1.0' in metrics

    listed = cli("failed", "--portal", PORTAL_A)
    assert listed.exit_code == 0, listed.output
    rows = [ln.split("\t") for ln in listed.stdout.splitlines()]
    assert len(rows) == 1
    job_id, queue, portal, func, _when, error = rows[0]
    assert (job_id, queue, portal) == (failing.id, "events", PORTAL_A)
    assert func == "tests.support.flaky_jobs.needs_file"
    assert error == f"RuntimeError: price-list.txt is missing for {PORTAL_A}"
    assert "1 failed job(s)" in listed.stderr

    marker.write_text("fixed")  # the operator fixes the cause
    again = cli("requeue", failing.id)
    assert again.exit_code == 0 and again.stdout.strip() == failing.id
    _drain(services)
    assert failing.get_status(refresh=True) == "finished"
    assert failing.return_value() == "fixed"

    still = cli("failed").stdout.splitlines()
    assert [ln.split("\t")[0] for ln in still] == [other.id]
    metrics = flask_client.get("/metrics").get_data(as_text=True)
    assert 'b24app_failed_jobs{queue="events"} 1.0' in metrics
    assert f'portal="{PORTAL_A}"' not in metrics


def test_requeue_all_of_one_portal_and_refusals(services, cli, tmp_path):
    for n in range(3):
        enqueue(services, "events", JOB, PORTAL_B, str(tmp_path / f"b{n}"))
    enqueue(services, "events", JOB, PORTAL_A, str(tmp_path / "a"))
    _drain(services)
    assert cli("requeue").exit_code == 2  # neither ids nor --all
    unknown = cli("requeue", "no-such-job")
    assert unknown.exit_code == 1 and "no job no-such-job" in unknown.output
    done = cli("requeue", "--all", "--portal", PORTAL_B)
    assert done.exit_code == 0 and len(done.stdout.split()) == 3
    assert services.queue("events").count == 3
    assert len(cli("failed").stdout.splitlines()) == 1  # portal A's stays failed


def test_rq_dashboard_shows_the_failed_job_behind_basic_auth(services, redis_url, tmp_path):
    failing = enqueue(services, "events", JOB, PORTAL_A, str(tmp_path / "x"))
    _drain(services)
    port = free_port()
    env = {**os.environ, "RQ_DASHBOARD_USERNAME": "ops", "RQ_DASHBOARD_PASSWORD": "s3cret"}
    argv = [sys.executable, "-m", "rq_dashboard", "-b", "127.0.0.1", "-p", str(port)]
    proc = subprocess.Popen(  # noqa: S603
        [*argv, "-u", redis_url, "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                anonymous = requests.get(base + "/", timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert anonymous.status_code == 401
        page = requests.get(
            f"{base}/0/data/jobs/events/failed/10/asc/1.json", auth=("ops", "s3cret"), timeout=5
        )
        assert page.status_code == 200
        assert [job["id"] for job in page.json()["jobs"]] == [failing.id]
        job = requests.get(
            f"{base}/0/data/job/{failing.id}.json", auth=("ops", "s3cret"), timeout=5
        )
        assert f"RuntimeError: x is missing for {PORTAL_A}" in job.json()["exc_info"]
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow
def test_a_job_whose_worker_was_killed_is_retried_not_failed(services, database_url, redis_url):
    """RQ's registry cleanup reports a SIGKILLed worker's job as AbandonedJobError to the
    failure callback; the job did not fail, so it keeps its retries (app.queues)."""
    import signal

    from rq.registry import StartedJobRegistry
    from rq.serializers import JSONSerializer

    job = enqueue(services, "events", "time.sleep", 30)
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "app.worker", "--queues", "events"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its forked scheduler dies with it (killpg below)
    )
    try:
        deadline = time.monotonic() + 30
        while job.get_status(refresh=True) != "started":
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.1)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the whole worker, scheduler child included
        worker.wait(10)
    registry = StartedJobRegistry("events", connection=services.redis, serializer=JSONSerializer)
    registry.cleanup(timestamp=time.time() + 10_000)  # what maintenance does once it expires
    job.refresh()
    assert job.get_status() != "failed"
    assert job.id not in services.queue("events").failed_job_registry.get_job_ids()
    assert job.retries_left == 2  # one retry used, like any failure


def test_a_record_still_locked_by_a_killed_worker_is_retried_not_failed(services):
    """The record lock of a SIGKILLed worker lives LOCK_TIMEOUT (120 s): jobs on that record
    meanwhile raise RecordBusy, which must be retried (the chaos run lost a conversion when
    it was not)."""
    job = enqueue(services, "events", "tests.support.flaky_jobs.record_busy", PORTAL_A)
    _drain(services)
    job.refresh()
    assert job.get_status() == "scheduled"  # retried in 5 s
    assert job.retries_left == 2
    assert services.queue("events").failed_job_registry.count == 0
