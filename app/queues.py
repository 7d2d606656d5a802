"""RQ queues by priority, the JSON serializer, and the one retry policy.

Priority: ``robots`` > ``timers`` > ``events`` > ``sync`` > ``bulk``. A worker listening on
several queues always drains the earlier ones first (RQ order), so a robot waiting on the
portal's ``timeout_duration`` never waits behind a full sync.

Job arguments are plain values only (str/int/float/bool/None, lists and dicts of them):
:func:`enqueue` asserts JSON-serialisability, so no ORM object or client sneaks into Redis.
Jobs re-read state from the store and raise on failure; RQ retries them with
:data:`RETRY_INTERVALS`. Whether a failure is worth retrying is decided by
``app.portal.errors.is_retryable``; :func:`give_up_unless_retryable` is the failure callback
that cancels pending retries of a non-retryable failure.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from rq import Queue, Retry
from rq.serializers import JSONSerializer

QUEUES = ("robots", "timers", "events", "sync", "bulk")
RETRY_INTERVALS = [5, 30, 120]
DEFAULT_TIMEOUT = {"robots": 300, "timers": 300, "events": 300, "sync": 3600, "bulk": 3600}


def make_queue(name: str, redis_conn) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; queues are {QUEUES}")
    return Queue(
        name,
        connection=redis_conn,
        serializer=JSONSerializer,
        default_timeout=DEFAULT_TIMEOUT[name],
    )


def default_retry() -> Retry:
    return Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS))


def _assert_plain(value: Any, what: str) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"job {what} must be plain JSON values, got {value!r}") from exc


def enqueue(
    services,
    queue_name: str,
    func: Any,
    *args: Any,
    job_id: str | None = None,
    retry: Retry | None | bool = None,
    **kwargs: Any,
):
    """Enqueue ``func`` (dotted path string preferred) with plain-value arguments.

    ``retry=None`` uses the default policy, ``retry=False`` disables retries. Extra RQ options
    go through ``job_timeout=``, ``result_ttl=``, ``at_front=`` etc.; everything else in
    ``kwargs`` is passed to the job.
    """
    options = _job_options(args, kwargs, job_id, retry)
    return services.queue(queue_name).enqueue(func, **options)


def enqueue_in(
    services,
    queue_name: str,
    delay: float,
    func: Any,
    *args: Any,
    job_id: str | None = None,
    retry: Retry | None | bool = None,
    **kwargs: Any,
):
    """Like :func:`enqueue`, but the job enters ``queue_name`` only after ``delay`` seconds
    (RQ's ScheduledJobRegistry; the clock and the ``--with-scheduler`` workers move due jobs
    to their queue, at a one-second tick). Same retry and failure-callback policy."""
    options = _job_options(args, kwargs, job_id, retry)
    return services.queue(queue_name).enqueue_in(
        timedelta(seconds=max(0.0, float(delay))), func, **options
    )


def _job_options(
    args: tuple, kwargs: dict[str, Any], job_id: str | None, retry: Retry | None | bool
) -> dict[str, Any]:
    """RQ's keyword arguments for one job: plain-value ``args``/``kwargs`` (asserted), the
    RQ options popped from ``kwargs``, and the retry policy with its failure callback."""
    rq_options = {
        k: kwargs.pop(k)
        for k in ("job_timeout", "result_ttl", "failure_ttl", "at_front", "description", "meta")
        if k in kwargs
    }
    _assert_plain(list(args), "args")
    _assert_plain(kwargs, "kwargs")
    if retry is None:
        retry = default_retry()
    elif retry is False:
        retry = None
    return {
        "args": args,
        "kwargs": kwargs,
        "job_id": job_id,
        "retry": retry,
        "on_failure": give_up_unless_retryable if retry else None,
        **rq_options,
    }


def give_up_unless_retryable(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ failure callback: a non-retryable error (e.g. TokenInvalid) stops the retries.
    An exception class may say ``retryable = True`` (a record lock still held: wait).

    A job whose worker died under it (SIGKILL, OOM: RQ's registry cleanup reports
    ``AbandonedJobError``) keeps its retries: the job never failed, its process did."""
    from rq.exceptions import AbandonedJobError

    from app.portal.errors import is_retryable

    if isinstance(exc_value, AbandonedJobError) or getattr(exc_value, "retryable", None) is True:
        return
    if exc_value is not None and not is_retryable(exc_value):
        job.retries_left = 0
        job.save()
