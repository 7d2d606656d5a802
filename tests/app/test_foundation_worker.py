"""The worker counts job outcomes and tags job logs with member_id and job id."""

from __future__ import annotations

import io
import logging

from prometheus_client import REGISTRY

from app.queues import enqueue
from app.worker import build_worker
from config.logging import make_handler

MEMBER = "d897063e1ce7c5eb9f04b9751eef5915"


def _count(name: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("b24app_jobs_total", {"name": name, "outcome": outcome}) or 0.0


def test_job_logs_carry_member_and_job_id_and_outcomes_are_counted(services):
    stream = io.StringIO()
    logger = logging.getLogger("tests.foundation.job")
    handler = make_handler(False, stream)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    ok_before = _count("log_hello", "ok")
    failed_before = _count("fail_with", "failed")
    try:
        job = enqueue(services, "events", "tests.app._foundation_jobs.log_hello", MEMBER)
        enqueue(services, "events", "tests.app._foundation_jobs.fail_with", "TokenInvalid")
        build_worker(services, ["events"]).work(burst=True)
    finally:
        logger.removeHandler(handler)
    line = next(ln for ln in stream.getvalue().splitlines() if "hello from the job" in ln)
    assert f"member={MEMBER}" in line and f"job={job.id}" in line
    assert _count("log_hello", "ok") == ok_before + 1
    assert _count("fail_with", "failed") == failed_before + 1
