"""The offline check rides along in the batches a drain round sends anyway (issue 22).

A lead's own work is one read batch and one write batch. The offline safety net used to add
a standalone ``event.offline.get`` + ``event.offline.clear`` after every notice: a lone lead
cost four requests. Now, when a check is due (:func:`due`: the portal announced rows, the
last check found rows, or the fallback interval passed), the drain round's client is wrapped
in :class:`RideAlong`:

1. the first batch with room (< 50 commands) carries ``event.offline.get {clear: 0,
   limit}`` (event-offline-get.md: ``clear=0`` reserves the rows under a ``process_id``);
2. if every row it returns is covered by an online event the inbox already took
   (``app.sync.offline.all_covered``: those records are dirty or processed — the dirty set
   keeps them until a drain processed them), the next batch with room carries
   ``event.offline.clear {process_id}``; if the round sends no further batch with room, one
   standalone clear follows;
3. rows that are not covered (the online delivery missed something) are handed over by
   ``process_id`` to the standalone catch-up (``app.sync.offline.resume``), which
   re-selects, processes and clears them: the rare path costs requests only when something
   was missed. It runs :data:`HANDOVER_DELAY` seconds later: a row may look uncovered only
   because its online POST is still in flight (the portal queues the row first).

At-least-once: a row is cleared only after its record was processed or covered. A batch
that carried the get and failed leaves its rows reserved under a process id we never saw:
the orphan flag makes the next standalone catch-up find them (``sweep_orphans``). A get that
found no room in any batch is simply not sent: the announcement stays and the clock's
catch-up takes it after ``app.jobs.events.RIDE_GRACE``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from app.portal.errors import is_retryable
from app.sync import dirty, offline

log = logging.getLogger(__name__)

GET, CLEAR = "_offline_get", "_offline_clear"  # labels no rule command uses
ROOM = 50  # batch limit (api-reference/how-to-call-rest-api/batch.md)
RECHECK_TTL = 60  # a check that found rows asks the next round's batches to look again
# The portal queues a row before it posts the online event: a row the check finds may be
# "uncovered" only because its POST is still in flight. The hand-over waits this long, so
# the catch-up usually finds it covered by then and clears it without a read.
HANDOVER_DELAY = 5.0


def recheck_key(member_id: str) -> str:
    return f"b24:offline:recheck:{member_id}"


def found_key(member_id: str) -> str:
    """When (our clock) the latest check that found rows was sent."""
    return f"b24:offline:found:{member_id}"


# A notice that came at most this long after a check that found rows announced those rows:
# the portal posts the notice when it queues a row, and that POST races the drain.
LATE_NOTICE = 2.0


def late_notices(redis: Any, member_id: str) -> bool:
    """True when every notice not yet consumed came within :data:`LATE_NOTICE` seconds after
    a check that found rows (and after it was sent): they announced the rows that check saw
    — the announcement is dropped (the clock's fallback still looks every 15 minutes).

    The trade: a change whose online event was lost *and* whose notice came in those two
    seconds waits for the fallback instead of ``RIDE_GRACE``; a change whose online event
    came is processed online either way."""
    found = redis.get(found_key(member_id))
    notice = redis.hmget(dirty.announced_key(member_id), ["first", "last"])
    if found is None or notice[0] is None or notice[1] is None:
        return False
    at, first, last = float(found), float(notice[0]), float(notice[1])
    if at <= first and last <= at + LATE_NOTICE:
        return dirty.consume_announcement(redis, member_id, last)
    return False


def fallback_key(member_id: str) -> str:
    """The clock's "no notice for a while" gate (``app.jobs.events.OFFLINE_FALLBACK``)."""
    return f"b24:every:offline_fallback:{member_id}"


def due(redis: Any, member_id: str, fallback: int) -> str:
    """Why a check rides along this round (it costs no request, so every round with room
    carries one): rows were ``"announced"``, the last check found rows (``"recheck"``: rows
    queued right after it may fall within the portal's notice throttle and go unannounced),
    no check ran for ``fallback`` seconds (``"fallback"``: the gate is taken here, and given
    back if no batch had room), or else ``"online"``."""
    if redis.exists(dirty.announced_key(member_id)):
        return "announced"
    if redis.exists(recheck_key(member_id)):
        return "recheck"
    if redis.set(fallback_key(member_id), b"1", nx=True, ex=fallback):
        return "fallback"
    # an online event brought this round, and every event is bound offline too: its row is
    # queued already (the portal writes the row before it posts the event), while the
    # notice announcing it races this drain and often comes after it started
    return "online"


class RideAlong:
    """The portal client of one drain round, adding the offline check to its batches (see
    module doc). Call :meth:`finish` after the round (also when it failed)."""

    def __init__(
        self, ctx: Any, *, limit: int = offline.LIMIT, fallback: int = 900, reason: str = ""
    ) -> None:
        self._client = ctx.client
        self._took_gate = reason == "fallback"
        self._ctx = ctx
        self._limit = limit
        self._fallback = fallback
        self.state = "due"  # due → sent → to_clear → done
        self.sent_at: float | None = None
        self.process_id: str | None = None
        self.rows: list[dict] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch(self, commands: Mapping[str, tuple[str, Any]], **options: Any) -> Any:
        extra = self._extra(commands, options)
        if not extra:
            return self._client.batch(commands, **options)
        if GET in extra:
            self.state, self.sent_at = "sent", time.time()
        try:
            reply = self._client.batch({**commands, **extra}, **options)
        except BaseException as exc:
            # the portal may have run it: rows may be reserved under an unseen process id
            offline.may_have_orphans(self._ctx.redis, self._ctx.member_id)
            if self.process_id:
                offline.hand_over(self._ctx.redis, self._ctx.member_id, self.process_id)
            self.state = "done"
            if GET in extra and _reads_only(commands) and is_retryable(exc):
                # The get makes the batch no read, so the gateway did not retry it: a 500 or
                # a timeout would fail the whole round (bench/chaos.py: every fifth round).
                # The check is given up for this round — the catch-up's orphan sweep finds
                # whatever it reserved — and the reads go again, retried as reads.
                _enqueue_catch_up(self._ctx.member_id)
                return self._client.batch(commands, **options)
            raise
        self._take(reply, extra)
        return reply

    def _extra(self, commands: Mapping, options: Mapping) -> dict[str, tuple[str, dict]]:
        if options.get("halt") or len(commands) >= ROOM:
            return {}
        if self.state == "due":
            return {GET: ("event.offline.get", {"clear": 0, "limit": self._limit})}
        if self.state == "to_clear":
            return {CLEAR: ("event.offline.clear", {"process_id": self.process_id})}
        return {}

    def _take(self, reply: Any, extra: Mapping) -> None:
        results, errors = _sections(reply)
        if GET in extra:
            value, error = results.pop(GET, None), errors.pop(GET, None)
            if error is not None or value is None:
                log.warning("ride-along offline check failed: %s", error)
                self.state = "done"
                return
            self.process_id, self.rows = offline._unpack(value)
            self._judge()
        if CLEAR in extra:
            value, error = results.pop(CLEAR, None), errors.pop(CLEAR, None)
            if error is None and value is not None:
                self.state = "done"
            else:  # finish() clears it standalone
                log.warning("ride-along offline clear failed: %s", error)

    def _judge(self) -> None:
        ctx = self._ctx
        if not self.rows:
            self.state = "done"
        elif offline.all_covered(ctx, self.rows):
            self.state = "to_clear"
        else:  # something the online delivery missed: the standalone catch-up settles it
            offline.hand_over(ctx.redis, ctx.member_id, str(self.process_id))
            _enqueue_catch_up(ctx.member_id)
            self.state = "done"

    def finish(self) -> dict[str, Any]:
        """After the round: clear standalone what no batch carried; consume the announcement
        the check answered; ask for another look when it found rows."""
        ctx = self._ctx
        if self.sent_at is None:  # no batch had room: give back the gate it took unused
            if self._took_gate:
                ctx.redis.delete(fallback_key(ctx.member_id))
            return {"rows": 0, "sent": False, "state": self.state}
        if self.state == "to_clear":
            try:
                ctx.client.call("event.offline.clear", {"process_id": self.process_id})
                self.state = "done"
            except Exception:  # the rows stay reserved: the standalone catch-up resumes them
                log.exception("ride-along offline clear failed")
                offline.hand_over(ctx.redis, ctx.member_id, str(self.process_id))
                _enqueue_catch_up(ctx.member_id)
                raise
        checked = self.sent_at is not None and self.state == "done" and self.process_id
        if checked:
            redis = ctx.redis
            redis.set(fallback_key(ctx.member_id), b"1", ex=self._fallback)
            if len(self.rows) >= self._limit:
                dirty.announce_offline(redis, ctx.member_id)  # more rows wait
            else:
                dirty.consume_announcement(redis, ctx.member_id, float(self.sent_at or 0))
            if self.rows:
                redis.set(recheck_key(ctx.member_id), b"1", ex=RECHECK_TTL)
                redis.set(found_key(ctx.member_id), repr(self.sent_at), ex=RECHECK_TTL)
            else:
                redis.delete(recheck_key(ctx.member_id))
        return {"rows": len(self.rows), "sent": self.sent_at is not None, "state": self.state}


def _reads_only(commands: Mapping[str, tuple[str, Any]]) -> bool:
    from app.portal.client import is_read_only

    return all(is_read_only(str(method)) for method, _ in commands.values())


def _sections(reply: Any) -> tuple[dict, dict]:
    if isinstance(reply, Mapping):
        results = reply.get("results") or reply.get("result")
        errors = reply.get("errors") or reply.get("result_error")
    else:
        results, errors = getattr(reply, "results", None), getattr(reply, "errors", None)
    return (
        results if isinstance(results, dict) else {},
        errors if isinstance(errors, dict) else {},
    )


def _enqueue_catch_up(member_id: str) -> None:
    """Run the standalone catch-up in :data:`HANDOVER_DELAY` seconds (one per portal: the
    pending marker)."""
    from app.jobs.events import enqueue_catch_up

    enqueue_catch_up(member_id, delay=HANDOVER_DELAY)
