"""Recording a MessageClient action in the outbox and queueing its send job.

``record(session, member_id, key, rule, action)`` is called by ``app.rules.apply`` inside
its settle transaction (so the row exists exactly when the action's claim is ``done``);
``enqueue_sends`` runs after that commit. A row whose job got lost (Redis gone between the
commit and the enqueue) stays ``queued``; :func:`requeue_stale` puts it back on the queue.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from rq import Retry

from app.store import outbox

log = logging.getLogger(__name__)

QUEUE = "events"
SEND_JOB = "app.channels.jobs.send_message"
RETRY_INTERVALS = [10, 60, 300]  # then the message is reported as not sent


def record(session, member_id: str, key: str, rule: str, action: Any) -> tuple[int, bool]:
    """The outbox row of ``action`` (a MessageClient); ``(id, still to send)``."""
    entity, record_id = action.record
    # the text's name in ``message_templates``: the rule's own choice, else the rule's name
    template = getattr(action, "template", "") or rule.rsplit(".", 1)[-1]
    row, _created = outbox.record(
        session,
        member_id,
        key,
        playbook=rule.split(".", 1)[0] if "." in rule else "",
        rule=rule,
        entity=entity,
        record_id=int(record_id),
        wanted=action.channel,
        template=template[:64],
        subject=action.subject or "",
        text=action.text or "",
        detail={},
    )
    session.flush()
    return int(row.id), row.state == outbox.QUEUED


def _redis():
    """The Redis of the running RQ job, else of the process's Services (if one is set)."""
    from rq import get_current_job

    job = get_current_job()
    if job is not None:
        return job.connection
    import app.services as services_module

    current = services_module._current
    return current.redis if current is not None else None


def enqueue_sends(member_id: str, message_ids: list[int], redis=None) -> int:
    """Queue a send job per message; returns how many were queued (0 without Redis: the
    rows stay ``queued`` for :func:`requeue_stale`)."""
    from app.queues import make_queue

    redis = redis if redis is not None else _redis()
    if redis is None or not message_ids:
        return 0
    queue = make_queue(QUEUE, redis)
    for message_id in message_ids:
        queue.enqueue(
            SEND_JOB,
            args=(member_id, int(message_id)),
            retry=Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS)),
            description=f"send message {message_id}",
        )
    return len(message_ids)


_SWEEP_EVERY_S = 60.0
_last_sweep = [float("-inf")]


def sweep(services, *, force: bool = False) -> int:
    """:func:`requeue_stale`, at most once a minute (the timers clock calls it every tick).
    Never raises: a failed sweep is retried on a later tick."""
    import time

    now = time.monotonic()
    if not force and now - _last_sweep[0] < _SWEEP_EVERY_S:
        return 0
    _last_sweep[0] = now
    try:
        return requeue_stale(services)
    except Exception:  # noqa: BLE001 - the clock must keep ticking
        log.exception("outbox sweep failed")
        return 0


def requeue_stale(services, older_than: timedelta = timedelta(minutes=10)) -> int:
    """Re-queue ``queued`` rows untouched for ``older_than`` (their job was lost)."""
    from app.store.base import utcnow

    with services.session() as session:
        rows = outbox.stale_queued(session, utcnow() - older_than)
        by_member: dict[str, list[int]] = {}
        for row in rows:
            row.updated_at = utcnow()
            by_member.setdefault(row.member_id, []).append(int(row.id))
        session.commit()
    return sum(enqueue_sends(m, ids, services.redis) for m, ids in by_member.items())
