"""Jobs that failed for good (RQ's failed-job registries), for operators.

A job lands there when it raised and had no retry left (``app.queues`` retries three times;
a non-retryable error stops at once). Nothing is lost: the job keeps its arguments and its
last exception until ``failure_ttl`` (RQ's default: one year), so once the cause is fixed it
can be requeued and runs as it would have.

* :func:`list_failed` — the failed jobs, newest first, optionally of one portal or queue;
* :func:`counts` — failed jobs per (queue, portal), for ``/metrics``;
* :func:`requeue` — put failed jobs back on their queue with their retries restored.

The portal of a job is its first argument (house rule: jobs take ``member_id`` first) or its
``member_id`` keyword; a job without one (``fire_timer`` takes a timer id) shows ``-``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.queues import QUEUES

CHUNK = 500
NO_PORTAL = "-"


@dataclass(frozen=True)
class FailedJob:
    id: str
    queue: str
    func: str
    portal: str
    failed_at: datetime | None
    error: str  # the exception's last line (type: message), never the whole traceback


def _registry(services: Any, queue: str):
    return services.queue(queue).failed_job_registry


def portal_of(job) -> str:
    """The job's portal: ``member_id=`` or its first positional argument when a string."""
    try:
        candidate = (job.kwargs or {}).get("member_id") or (job.args[0] if job.args else None)
    except Exception:  # noqa: BLE001 - an undecodable job still gets listed
        return NO_PORTAL
    return candidate if isinstance(candidate, str) and candidate else NO_PORTAL


def _last_error(job) -> str:
    try:
        result = job.latest_result()
        text = (result.exc_string if result else None) or ""
    except Exception:  # noqa: BLE001
        text = ""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1].strip()[:300] if lines else "?"


def _jobs(services: Any, queue: str, limit: int | None = None):
    from rq.job import Job
    from rq.serializers import JSONSerializer

    ids = _registry(services, queue).get_job_ids()
    if limit is not None:
        ids = ids[-limit:]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        jobs = Job.fetch_many(chunk, connection=services.redis, serializer=JSONSerializer)
        yield from (job for job in jobs if job is not None)


def list_failed(
    services: Any, *, portal: str | None = None, queue: str | None = None, limit: int = 1000
) -> list[FailedJob]:
    """Failed jobs, newest first (at most ``limit`` of each queue are read)."""
    found = []
    for name in [queue] if queue else QUEUES:
        for job in _jobs(services, name, limit):
            job_portal = portal_of(job)
            if portal and job_portal != portal:
                continue
            found.append(
                FailedJob(
                    id=job.id,
                    queue=name,
                    func=job.func_name,
                    portal=job_portal,
                    failed_at=job.ended_at,
                    error=_last_error(job),
                )
            )
    found.sort(key=lambda f: f.failed_at or datetime.min, reverse=True)
    return found


def counts(services: Any, *, scan_limit: int = 10_000) -> tuple[dict[str, int], Counter]:
    """({queue: failed count}, Counter{(queue, portal): count}); the per-portal split reads
    at most ``scan_limit`` jobs of each queue (the per-queue totals are exact)."""
    totals: dict[str, int] = {}
    by_portal: Counter = Counter()
    for name in QUEUES:
        totals[name] = _registry(services, name).count
        if totals[name]:
            for job in _jobs(services, name, scan_limit):
                by_portal[(name, portal_of(job))] += 1
    return totals, by_portal


def requeue(
    services: Any,
    job_ids: list[str] | None = None,
    *,
    portal: str | None = None,
    queue: str | None = None,
) -> list[str]:
    """Requeue the given failed jobs (or, with ``job_ids=None``, every failed job of
    ``portal``/``queue``); returns the ids requeued. Each gets its retries back, so a
    transient failure after the fix is retried as it would have been the first time.
    Raises ``LookupError`` for an id that is not a failed job."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.serializers import JSONSerializer

    if job_ids is None:
        targets = [(f.queue, f.id) for f in list_failed(services, portal=portal, queue=queue)]
    else:
        targets = []
        for job_id in job_ids:
            try:
                job = Job.fetch(job_id, connection=services.redis, serializer=JSONSerializer)
            except NoSuchJobError:
                raise LookupError(f"no job {job_id} (expired, or never existed)") from None
            if job_id not in _registry(services, job.origin).get_job_ids():
                raise LookupError(f"job {job_id} is not in the failed jobs of {job.origin}")
            targets.append((job.origin, job_id))
    done = []
    for name, job_id in targets:
        registry = _registry(services, name)
        job = Job.fetch(job_id, connection=services.redis, serializer=JSONSerializer)
        if job.retry_intervals:
            job.retries_left = len(job.retry_intervals)
            job.save()
        registry.requeue(job)
        done.append(job_id)
    return done


def metrics_text(services: Any) -> bytes:
    """Prometheus text: ``b24app_failed_jobs{queue}`` (every queue, zeros included) and
    ``b24app_failed_jobs_by_portal{queue,portal}`` (only non-zero: the portal label is
    member_id, bounded by the portals that have failures). Read from Redis at scrape time,
    so every web process reports the same numbers whatever process the job failed in."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    totals, by_portal = counts(services)

    class _Collector:
        def collect(self):
            per_queue = GaugeMetricFamily(
                "b24app_failed_jobs", "Jobs in the failed-job registry", labels=["queue"]
            )
            for name, n in totals.items():
                per_queue.add_metric([name], n)
            yield per_queue
            per_portal = GaugeMetricFamily(
                "b24app_failed_jobs_by_portal",
                "Failed jobs per queue and portal (member_id; '-' when the job names none)",
                labels=["queue", "portal"],
            )
            for (name, portal), n in sorted(by_portal.items()):
                per_portal.add_metric([name, portal], n)
            yield per_portal

    registry = CollectorRegistry()
    registry.register(_Collector())
    return generate_latest(registry)
