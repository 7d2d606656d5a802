"""Per-portal "dirty records" in Redis: the inbox's one-round-trip hot path and its drain.

An accepted event does not enqueue an RQ job for its record. One Lua script (:func:`admit`)
claims the delivery, adds ``"<entity>:<id>"`` to the portal's dirty zset and tells the
caller whether a drain job is already scheduled for the portal. Only when it is not does the
caller enqueue one ``drain_changes`` job — rare under load, because the flag stays up while
a drain is queued or running. The drain (:func:`take`, :func:`done`, :func:`finish`) turns
dirty entries into ``process_change`` jobs, so N events for one record become one entry and
one job.

Keys (``<m>`` = member id):

``b24:evt:<m>:<digest>``   the delivery claim (``SET NX EX``; a replay finds it taken).
``b24:dirty:<m>``          zset entry → sequence number of its latest event (the score).
``b24:dirtyseq:<m>``       the sequence counter; a new event for a listed record bumps its
                           score, so the drain removes an entry only if no event arrived
                           after it was read (:func:`done`) — nothing is lost in that race.
``b24:drain:<m>``          "a drain is scheduled" flag with a TTL: a drain that died stops
                           blocking after :data:`FLAG_TTL`; the next event or the clock's
                           safety net (:func:`needs_drain`) schedules a new one.
``b24:seen:<m>:<entry>``   ``ts`` of the latest online event taken for the record: the
                           offline catch-up clears rows it covers without a read.
``b24:echo:<m>:<entry>``   update echoes the app expects of its own writes
                           (``app.sync.echoes``): such an UPDATE marks nothing.
``b24:offline:notice:<m>``  the portal announced offline rows (``ONOFFLINEEVENT``): hash
                           ``first``/``last`` = when the first/latest unconsumed notice came
                           (our clock). A drain's ride-along check consumes it
                           (:func:`consume_announcement`), else the clock's catch-up.
``b24:ours:<m>:<entry>``   a record the app itself created (:func:`remember_created`). Its
                           ``…ADD`` event can only be the echo of our own write — ADD fires
                           once, on creation — so :func:`admit` consumes the marker and marks
                           nothing: the mirror already holds the record as the portal
                           returned it, and a read would find no change.
"""

from __future__ import annotations

import math
import time
from typing import Any

from app.store.inbox import CLAIM_TTL, is_fresh

FLAG_TTL = 60  # a queued or running drain refreshes it; a dead one blocks at most this long
DIRTY_TTL = 7 * 24 * 3600  # only an abandoned portal's set ever reaches it
OURS_TTL = 24 * 3600  # an ADD echo arrives within seconds; a day covers a long outage
ANNOUNCED_TTL = 24 * 3600  # the fallback catch-up drains an announcement that got lost
SEEN_TTL = 6 * 3600  # the offline catch-up runs within minutes; hours cover a slow queue
REPLAY, ALREADY_SCHEDULED, SCHEDULE, OUR_ECHO = 0, 1, 2, 3

# KEYS: claim, dirty, seq, flag, ours, echo, seen; ARGV: claim ttl, fresh (1/0), entry,
# flag ttl, dirty ttl, is-add (1/0), is-update (1/0), ts ('' = none), seen ttl, cutoff (local
# time before which an in-flight echo marker is stale: app.sync.echoes.INFLIGHT_MAX).
# 0 = replay (nothing marked); 1 = marked, a drain is scheduled; 2 = marked, schedule one;
# 3 = the echo of our own write (nothing marked: ADD of a record we created, or an UPDATE
# counted by app.sync.echoes).
_ADMIT = """
local claimed = redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1])
if (not claimed) and ARGV[2] ~= '1' then return 0 end
local ts = tonumber(ARGV[8])
if ts and ts > tonumber(redis.call('GET', KEYS[7]) or '-1') then
  redis.call('SET', KEYS[7], ARGV[8], 'EX', ARGV[9])
end
if ARGV[6] == '1' and redis.call('DEL', KEYS[5]) == 1 then return 3 end
if ARGV[7] == '1' and ts then
  local n = tonumber(redis.call('HGET', KEYS[6], 'n') or '0')
  local hi = redis.call('HGET', KEYS[6], 'hi')
  if n > 0 and (not hi) and tonumber(redis.call('HGET', KEYS[6], 'sent') or '0') < tonumber(ARGV[10]) then
    redis.call('DEL', KEYS[6])  -- in flight too long: its writer died (app.sync.echoes)
    n = 0
  end
  if n > 0 and ((not hi) or ts <= tonumber(hi)) then
    if n <= 1 then redis.call('DEL', KEYS[6]) else redis.call('HINCRBY', KEYS[6], 'n', -1) end
    return 3
  end
end
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[5])
if redis.call('SET', KEYS[4], '1', 'NX', 'EX', ARGV[4]) then return 2 end
return 1
"""

# KEYS: dirty; ARGV: entry1, score1, entry2, score2 ... → how many were removed.
_DONE = """
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    n = n + redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
return n
"""

# KEYS: dirty, flag → 1 when the set is empty and the flag was dropped (the drain may stop).
# Atomic with _ADMIT: an event either lands before (set not empty: keep draining) or after
# (flag gone: that event schedules a new drain).
_FINISH = """
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
redis.call('DEL', KEYS[2])
return 1
"""

_scripts: dict[tuple[int, str], Any] = {}


def _script(redis: Any, source: str) -> Any:
    key = (id(redis), source)
    script = _scripts.get(key)
    if script is None:
        script = _scripts[key] = redis.register_script(source)
    return script


def dirty_key(member_id: str) -> str:
    return f"b24:dirty:{member_id}"


def flag_key(member_id: str) -> str:
    return f"b24:drain:{member_id}"


def entry(entity: str, record_id: int) -> str:
    return f"{entity}:{int(record_id)}"


def parse_entry(value: str | bytes) -> tuple[str, int]:
    """``"dynamic:1220:22"`` → ``("dynamic:1220", 22)`` (the id is after the last colon)."""
    text = value.decode() if isinstance(value, bytes) else value
    entity, _, record_id = text.rpartition(":")
    return entity, int(record_id)


def seen_key(member_id: str, entity: str, record_id: int) -> str:
    return f"b24:seen:{member_id}:{entry(entity, record_id)}"


def seen_at(redis: Any, member_id: str, records: list[tuple[str, int]]) -> dict:
    """``(entity, id) → ts`` of the latest online event the inbox took for each record
    (absent when none within :data:`SEEN_TTL`): what the offline catch-up needs to tell
    rows the online delivery already covered."""
    if not records:
        return {}
    values = redis.mget([seen_key(member_id, e, r) for e, r in records])
    return {rec: int(v) for rec, v in zip(records, values, strict=True) if v is not None}


def announced_key(member_id: str) -> str:
    # a hash since the ride-along check (#22); the old string key "b24:offline:announced:*"
    # is left to expire (a new name: no WRONGTYPE on a deploy over old keys)
    return f"b24:offline:notice:{member_id}"


def announce_offline(redis: Any, member_id: str, *, at: float | None = None) -> None:
    """The portal said offline rows exist (``ONOFFLINEEVENT``): the next drain round checks
    the queue inside a batch it sends anyway (``app.sync.ridealong``); the clock drains the
    rows itself only when no drain did within ``app.jobs.events.RIDE_GRACE``."""
    now = repr(time.time() if at is None else at)
    key = announced_key(member_id)
    pipe = redis.pipeline(transaction=False)
    pipe.hsetnx(key, "first", now)
    pipe.hset(key, "last", now)
    pipe.expire(key, ANNOUNCED_TTL)
    pipe.execute()


def announced_since(redis: Any, member_id: str) -> float | None:
    """When the oldest notice not yet consumed came (our clock), or None."""
    value = redis.hget(announced_key(member_id), "first")
    return float(value) if value is not None else None


# KEYS: notice hash; ARGV: time the check was sent → 1 when the announcement was consumed
_CONSUME = """
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '-1')
if last < 0 then return 0 end
if last <= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) return 1 end
return 0
"""


def consume_announcement(redis: Any, member_id: str, checked_at: float) -> bool:
    """A queue check sent at ``checked_at`` (our clock) saw every row announced by notices
    that came before it: drop the announcement unless a later notice came meanwhile."""
    keys = [announced_key(member_id)]
    return bool(int(_script(redis, _CONSUME)(keys=keys, args=[repr(checked_at)])))


def ours_key(member_id: str, entity: str, record_id: int) -> str:
    return f"b24:ours:{member_id}:{entry(entity, record_id)}"


def remember_created(redis: Any, member_id: str, created: list[tuple[str, int]]) -> None:
    """Note records the app just created (``("dynamic:1220", 22)``, ``("deal", 5)`` — the
    entity names :func:`app.sync.events_map.record_of` gives), so their ADD echo costs no read."""
    if not created:
        return
    pipe = redis.pipeline(transaction=False)
    for entity, record_id in created:
        pipe.set(ours_key(member_id, entity, record_id), b"1", ex=OURS_TTL)
    pipe.execute()


def consume_created(redis: Any, member_id: str, entity: str, record_id: int) -> bool:
    """True (once) when the app created this record and its ADD echo has not been seen.
    The record job calls it when the echo was marked before :func:`remember_created` ran
    (a fast portal delivers the ADD event before our batch answer is back)."""
    return bool(redis.delete(ours_key(member_id, entity, record_id)))


def admit(
    redis: Any,
    member_id: str,
    digest: str,
    ts: str | None,
    entity: str,
    record_id: int,
    *,
    now: float | None = None,
    is_add: bool = False,
    is_update: bool = False,
) -> int:
    """Claim the delivery and mark the record dirty in ONE round trip. Returns
    :data:`REPLAY`, :data:`ALREADY_SCHEDULED` or :data:`SCHEDULE` (the caller must enqueue
    a drain, and call :func:`unschedule` if that fails), or :data:`OUR_ECHO` for the ADD
    event of a record we created (``is_add``) or an UPDATE the app expects as the echo of
    its own write (``is_update``, ``app.sync.echoes``). Every admitted event records its
    ``ts`` as the record's latest online event (:func:`seen_at`). A duplicate with a fresh ``ts`` still marks
    the record: it may be a genuine second change within the same second."""
    keys = [
        f"b24:evt:{member_id}:{digest}",
        dirty_key(member_id),
        f"b24:dirtyseq:{member_id}",
        flag_key(member_id),
        ours_key(member_id, entity, record_id),
        f"b24:echo:{member_id}:{entry(entity, record_id)}",  # app.sync.echoes.echo_key
        seen_key(member_id, entity, record_id),
    ]
    fresh = "1" if is_fresh(ts, now) else "0"
    flags = ["1" if is_add else "0", "1" if is_update else "0"]
    stamp = ts if ts and ts.isdigit() else ""
    args = [CLAIM_TTL, fresh, entry(entity, record_id), FLAG_TTL, DIRTY_TTL, *flags, stamp]
    from app.sync.echoes import INFLIGHT_MAX

    clock = time.time() if now is None else now
    args += [SEEN_TTL, f"{clock - INFLIGHT_MAX:.3f}"]
    return int(_script(redis, _ADMIT)(keys=keys, args=args))


def unschedule(redis: Any, member_id: str) -> None:
    """The drain could not be enqueued: drop the flag so the next event tries again (the
    dirty entries stay)."""
    redis.delete(flag_key(member_id))


def schedule_if_idle(redis: Any, member_id: str) -> bool:
    """Recovery (the clock's safety net): True when records are dirty and no drain is
    scheduled — the flag is now set and the caller must enqueue a drain."""
    if not redis.exists(dirty_key(member_id)):
        return False
    return bool(redis.set(flag_key(member_id), b"1", nx=True, ex=FLAG_TTL))


def keep_scheduled(redis: Any, member_id: str, delay: float) -> None:
    """A drain hands its turn back for ``delay`` seconds: hold the flag that long plus the
    usual :data:`FLAG_TTL` (the delayed job refreshes it when it runs), so events and the
    clock's safety net (:func:`schedule_if_idle`) see a drain scheduled meanwhile."""
    redis.set(flag_key(member_id), b"1", ex=FLAG_TTL + math.ceil(delay))


def take(redis: Any, member_id: str, limit: int) -> list[tuple[str, int, str]]:
    """Up to ``limit`` dirty records as ``(entity, record_id, score)``, oldest first, and
    refresh the flag (this drain is alive). Nothing is removed here: see :func:`done`."""
    pipe = redis.pipeline(transaction=False)
    pipe.expire(flag_key(member_id), FLAG_TTL)
    pipe.zrange(dirty_key(member_id), 0, limit - 1, withscores=True)
    _, rows = pipe.execute()
    return [(*parse_entry(value), repr(int(score))) for value, score in rows]


def done(redis: Any, member_id: str, taken: list[tuple[str, int, str]]) -> int:
    """Remove the taken entries whose score did not change since :func:`take` (an event that
    arrived meanwhile keeps its record dirty for the next round)."""
    if not taken:
        return 0
    args: list[Any] = []
    for entity, record_id, score in taken:
        args += [entry(entity, record_id), score]
    return int(_script(redis, _DONE)(keys=[dirty_key(member_id)], args=args))


def mark(redis: Any, member_id: str, entries: list[str]) -> None:
    """Mark records dirty without an event (the echo sweep: ``app.sync.echoes.sweep_stale``);
    the clock's :func:`schedule_if_idle` then schedules a drain if none is."""
    if not entries:
        return
    pipe = redis.pipeline(transaction=False)
    for _ in entries:
        pipe.incr(f"b24:dirtyseq:{member_id}")
    seqs = pipe.execute()
    pipe = redis.pipeline(transaction=False)
    pipe.zadd(dirty_key(member_id), dict(zip(entries, seqs, strict=True)))
    pipe.expire(dirty_key(member_id), DIRTY_TTL)
    pipe.execute()


def finish(redis: Any, member_id: str) -> bool:
    """True when nothing is dirty any more and the flag was dropped: the drain may stop."""
    keys = [dirty_key(member_id), flag_key(member_id)]
    return bool(int(_script(redis, _FINISH)(keys=keys, args=[])))
