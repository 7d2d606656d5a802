"""Run a real RQ worker the way the e2e worlds settle: burst mode, no scheduler process.

A drain that hands its turn back while the portal's bucket refills
(``app.jobs.events._hand_back``) sits in RQ's ScheduledJobRegistry until due; in production
the clock and the ``--with-scheduler`` workers move it to its queue. Here
:func:`work_until_idle` does that: it waits for a handed-back drain to fall due, enqueues it
and works again, so a settled world never strands records in the registry.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from rq import SimpleWorker
from rq.job import Job
from rq.serializers import JSONSerializer

from app.queues import RETRY_INTERVALS


def work_until_idle(services, names=("events", "sync"), *, retries=False) -> SimpleWorker:
    """Work ``names`` in burst mode; then, while a drain handed its turn back, wait until it
    is due, enqueue it and work again. ``retries``: a failed job's scheduled retry is run
    the same way (a test comparing end states must not stop at a transient failure, e.g. a
    timeout on a loaded CI machine). Returns the last worker."""
    queues = [services.queue(n) for n in names]
    while True:
        worker = SimpleWorker(queues, connection=services.redis, serializer=JSONSerializer)
        worker.work(burst=True)
        if not _move_handed_back(services, queues, retries=retries):
            return worker


def _move_handed_back(services, queues, *, retries=False) -> bool:
    """Wait for the handed-back drains (and offline hand-overs) of ``queues`` to fall due and enqueue them at the
    back of their queue (what RQ's scheduler does); False when there is none."""
    moved = False
    for queue in queues:
        registry = queue.scheduled_job_registry
        for job_id in registry.get_job_ids():
            job = Job.fetch(job_id, connection=services.redis, serializer=JSONSerializer)
            if not retries:
                if "handed_back" not in job.meta and "offline_handover" not in job.meta:
                    continue  # a failed job's retry stays scheduled, as tests expect
                if "offline_handover" in job.meta and job.retries_left != len(RETRY_INTERVALS):
                    continue  # ... a failed hand-over's too
            due = registry.get_scheduled_time(job_id).timestamp()
            time.sleep(max(0.0, due - datetime.now(UTC).timestamp()))
            registry.remove(job_id)
            queue.enqueue_job(job)
            moved = True
    return moved
