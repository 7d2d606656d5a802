"""Worker entry: ``python -m app.worker [--queues robots,events,...] [--burst] [--fork]``.

The worker composition root: Settings from the environment, logging, then an RQ worker with
the scheduler (delayed jobs and ``Retry(interval=...)`` need it) on the given queues in
priority order. By default a ``SimpleWorker`` runs jobs in this process and reuses one
``Services`` (engine pool, Redis client) across jobs — several times the throughput of
forking on small machines. ``--fork`` runs each job in a forked child instead (isolation
from crashing jobs); the child then builds its own Services, since connection pools must not
cross a fork.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from app.queues import QUEUES

log = logging.getLogger("app.worker")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m app.worker", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--queues",
        default=",".join(QUEUES),
        help=f"comma-separated queue names in priority order (default: {','.join(QUEUES)})",
    )
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    parser.add_argument("--fork", action="store_true", help="run each job in a forked child")
    parser.add_argument("--name", default=None, help="worker name (default: generated)")
    args = parser.parse_args(argv)
    names = [q.strip() for q in args.queues.split(",") if q.strip()]
    unknown = [q for q in names if q not in QUEUES]
    if unknown or not names:
        parser.error(f"unknown queue(s) {unknown}; choose from {', '.join(QUEUES)}")
    # keep priority order whatever order was typed: robots before bulk, always
    args.queue_names = [q for q in QUEUES if q in names]
    return args


def _job_name(job) -> str:
    try:
        return job.func_name.rsplit(".", 1)[-1]
    except Exception:  # noqa: BLE001 - a job that cannot be decoded still gets counted
        return "unknown"


class _Measured:
    """Counts every job's outcome and duration in ``app.metrics`` (all jobs, however enqueued)."""

    def perform_job(self, job, queue, *args, **kwargs):
        from app.metrics import JOB_DURATION

        started = time.perf_counter()
        try:
            return super().perform_job(job, queue, *args, **kwargs)
        finally:
            JOB_DURATION.labels(_job_name(job)).observe(time.perf_counter() - started)

    def handle_job_success(self, job, queue, *args, **kwargs):
        from app.metrics import JOBS

        JOBS.labels(_job_name(job), "ok").inc()
        return super().handle_job_success(job, queue, *args, **kwargs)

    def handle_job_failure(self, job, queue, *args, **kwargs):
        from app.metrics import JOBS

        JOBS.labels(_job_name(job), "failed").inc()
        return super().handle_job_failure(job, queue, *args, **kwargs)


def build_worker(services, queue_names: list[str], *, fork: bool = False, name: str | None = None):
    """An RQ worker on ``queue_names`` with the JSON serializer, sharing ``services.redis``."""
    from rq import SimpleWorker, Worker
    from rq.serializers import JSONSerializer

    class MeasuredSimpleWorker(_Measured, SimpleWorker):
        pass

    class MeasuredWorker(_Measured, Worker):
        pass

    cls = MeasuredWorker if fork else MeasuredSimpleWorker
    return cls(
        [services.queue(q) for q in queue_names],
        connection=services.redis,
        serializer=JSONSerializer,
        name=name,
        worker_ttl=60,
        maintenance_interval=60,  # a killed worker's jobs are requeued within ~1.5 min
    )


def main(argv: list[str] | None = None) -> int:
    from app import services as services_module
    from config.logging import configure_logging
    from config.settings import Settings, SettingsError

    args = parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(settings)
    services = services_module.Services(settings)
    from app.store.migrate import refuse_to_start

    if refuse_to_start(services.engine, "worker"):
        return 2
    services_module.use(None if args.fork else services)
    worker = build_worker(services, args.queue_names, fork=args.fork, name=args.name)
    log.info("worker %s on queues %s (burst=%s)", worker.name, args.queue_names, args.burst)
    worker.work(burst=args.burst, with_scheduler=True, logging_level=settings.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
