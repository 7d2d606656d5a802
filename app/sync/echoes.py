"""Echoes of our own updates: recognised at the inbox from what we wrote, costing no read.

Every ``crm.item.update`` the app sends makes the portal post one ``ONCRM…UPDATE`` event
for that record (the same event a person's edit makes: it carries only the id and the
portal's ``ts``). Reading the record back for each of them found nothing new — the mirror
already holds the record as the update answered it — and cost a request per write.

So the writer notes, per record, how many update echoes it expects, *before* the batch is
sent (a fast portal posts the echo before our answer is back), and after the answer the
latest second (portal clock, the answer's ``updatedTime``) they can carry:

``b24:echo:<m>:<entity>:<id>``  hash ``n`` (echoes still expected), ``hi`` (latest ``ts``
                                an echo can carry; absent while the batch is in flight),
                                ``sent`` (local time the latest batch went out)
``b24:echo:inflight:<m>``       zset of those records, scored by ``sent``: the sweep's index

The inbox (``app.sync.dirty.admit``, same Lua round trip) takes an UPDATE event whose
``ts`` ≤ ``hi`` as one of ours while ``n`` > 0: nothing is marked. Why that is safe:

* a person's edit whose event is counted as ours instead of our echo leaves our echo
  uncounted, so it is read — after both changes, so the read sees the edit;
* an event for a change made before our read (a late delivery) is covered by that read;
* only a person's change in the same second as our write whose own event is the one
  counted, *and* an echo the portal never sent, would go unread: the reconciliation
  (``app.sync.reconcile``, by ``updatedTime``) still finds it.

A write that failed (or whose batch failed as a whole) takes its expectation back. Markers
expire after :data:`ECHO_TTL`.

**A writer that dies mid-batch** (a SIGKILLed worker) neither settles nor takes back: its
marker says "in flight" and would take *every* UPDATE of the record for ours until it
expired — a person's edit in that minute went unread, and since the inbox records it as
seen, the offline catch-up counted it covered too (the chaos run's kitchens leads whose
move to «Квалифицирован» was never processed). So an in-flight marker is trusted for
:data:`INFLIGHT_MAX` seconds only (the inbox reads an UPDATE that meets an older one, and
drops the marker), and :func:`sweep_stale`, on every clock tick, marks the record of each
marker still in flight after that long dirty: the read it gets covers whatever the marker
swallowed. A writer that was merely slow costs one extra read, never a lost change.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from app.store import mirror
from app.sync.dirty import entry
from app.sync.events_map import CRM_ENTITIES, DYNAMIC_PREFIX

ECHO_TTL = 60  # an echo arrives within seconds; a lost one must not wait long
# A batch in flight longer than this is presumed dead (its worker killed): the limiter's wait
# and the gateway's retries of one batch stay well inside it.
INFLIGHT_MAX = 30
SLACK = 1  # the event's ts may fall on the second after the write's updatedTime
_ETIDS = {1: "lead", 2: "deal", 3: "contact", 4: "company"}
assert set(_ETIDS.values()) == set(CRM_ENTITIES.values())

# KEYS: inflight index, echo hashes…; ARGV: ttl, now, entry1, count1, entry2, count2 …
# (negative count = take back)
_EXPECT = """
for i = 2, #KEYS do
  local key, entry, count = KEYS[i], ARGV[2 * i - 1], tonumber(ARGV[2 * i])
  local n = redis.call('HINCRBY', key, 'n', count)
  if n <= 0 then
    redis.call('DEL', key)
  else
    if count > 0 then
      redis.call('HSET', key, 'sent', ARGV[2])
      redis.call('ZADD', KEYS[1], ARGV[2], entry)
    end
    redis.call('EXPIRE', key, ARGV[1])
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1] * 10)
return 1
"""

# KEYS: echo hashes; ARGV: hi1, hi2 … (raise only: a later batch's answer wins)
_SETTLE = """
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    local hi = tonumber(redis.call('HGET', key, 'hi') or '0')
    if tonumber(ARGV[i]) > hi then redis.call('HSET', key, 'hi', ARGV[i]) end
  end
end
return 1
"""


def echo_key(member_id: str, event_entity: str, record_id: int) -> str:
    return f"b24:echo:{member_id}:{entry(event_entity, record_id)}"


def inflight_key(member_id: str) -> str:
    return f"b24:echo:inflight:{member_id}"


# KEYS: inflight index; ARGV: echo key prefix, cutoff (local time) → the entries whose batch
# is still in flight since before the cutoff (their markers dropped: the caller marks them
# dirty). Entries settled, taken back or expired leave the index; a newer batch's stays.
_SWEEP = """
local out = {}
for _, entry in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, 500)) do
  local key = ARGV[1] .. entry
  local sent = tonumber(redis.call('HGET', key, 'sent') or '0')
  if redis.call('EXISTS', key) == 0 or redis.call('HEXISTS', key, 'hi') == 1 then
    redis.call('ZREM', KEYS[1], entry)
  elseif sent > tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[1], sent, entry)
  else
    redis.call('DEL', key)
    redis.call('ZREM', KEYS[1], entry)
    table.insert(out, entry)
  end
end
return out
"""


def sweep_stale(redis: Any, member_id: str, *, now: float | None = None) -> list[str]:
    """Drop the markers of batches in flight for over :data:`INFLIGHT_MAX` seconds (their
    writer died) and return those records' entries: the caller marks them dirty, so the
    record is read once more (see module doc). One round trip when nothing is stale."""
    cutoff = (time.time() if now is None else now) - INFLIGHT_MAX
    prefix = f"b24:echo:{member_id}:"
    found = redis.eval(_SWEEP, 1, inflight_key(member_id), prefix, f"{cutoff:.3f}")
    return [e.decode() if isinstance(e, bytes) else str(e) for e in found or ()]


def unsettled(redis: Any, member_id: str | None = None) -> list[tuple[str, str]]:
    """The ``(member_id, entry)`` of every write-back still in flight: a marker that is
    expected and not yet answered. Reads only (the sweep is what acts on them); ``None``
    looks at every portal. An operator's and a benchmark's "is anything still settling?"."""
    indexes = [inflight_key(member_id)] if member_id else redis.scan_iter(inflight_key("*"))
    found = []
    for index in indexes:
        member = (index.decode() if isinstance(index, bytes) else index).rsplit(":", 1)[-1]
        for raw in redis.zrange(index, 0, -1):
            name = raw.decode() if isinstance(raw, bytes) else str(raw)
            key = f"b24:echo:{member}:{name}"
            if redis.exists(key) and not redis.hexists(key, "hi"):
                found.append((member, name))
    return found


def event_entity_of(entity_type_id: int) -> str:
    """The entity name the portal's events give records of ``entity_type_id``."""
    return _ETIDS.get(int(entity_type_id), f"{DYNAMIC_PREFIX}{int(entity_type_id)}")


def updates_in(cmd: Mapping[str, tuple[str, Mapping[str, Any]]]) -> dict[str, tuple[str, int]]:
    """``label → (event entity, id)`` for the batch's ``crm.item.update`` commands on a
    known record (an id still a ``$result[...]`` placeholder is left out: its echo is read)."""
    out: dict[str, tuple[str, int]] = {}
    for label, (method, params) in cmd.items():
        if method != "crm.item.update" or not isinstance(params, Mapping):
            continue
        etid, rid = params.get("entityTypeId"), params.get("id")
        if _plain_int(etid) and _plain_int(rid):
            out[label] = (event_entity_of(int(etid)), int(rid))
    return out


def _plain_int(value: Any) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.isdigit())


class EchoAwareClient:
    """The portal client, noting the echoes of the updates its batches carry (see module
    doc). ``written`` keeps, per ``(event entity, id)``, the record as the last successful
    update answered it: the caller stores it in the mirror, so a swallowed echo leaves the
    mirror as the portal holds the record."""

    def __init__(self, client: Any, redis: Any, member_id: str) -> None:
        self._client, self._redis, self._member_id = client, redis, member_id
        self.written: dict[tuple[str, int], dict[str, Any]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch(self, commands: Mapping[str, tuple[str, Any]], **options: Any) -> Any:
        updates = updates_in(commands)
        if not updates:
            return self._client.batch(commands, **options)
        counts = Counter(updates.values())
        self._expect(counts)
        try:
            reply = self._client.batch(commands, **options)
        except BaseException:
            # whether the portal ran any of it is unknown: expect nothing (an echo that
            # does come is read — a read costs less than a missed edit)
            self._expect(Counter({k: -v for k, v in counts.items()}))
            raise
        results = _get(reply, "results") or _get(reply, "result") or {}
        failed: Counter = Counter()
        latest: dict[tuple[str, int], int] = {}
        for label, record in updates.items():
            value = results.get(label) if isinstance(results, Mapping) else None
            item = value.get("item") if isinstance(value, Mapping) else None
            stamp = (
                mirror.parse_time(item.get("updatedTime")) if isinstance(item, Mapping) else None
            )
            if stamp is None:  # refused, or an answer we cannot place in time: read its echo
                failed[record] += 1
                continue
            self.written[record] = dict(item)
            second = int(stamp.timestamp()) + SLACK
            latest[record] = max(latest.get(record, 0), second)
        if failed:
            self._expect(Counter({k: -v for k, v in failed.items()}))
        self._settle(latest)
        return reply

    def _expect(self, counts: Counter) -> None:
        keys = [inflight_key(self._member_id)]
        args: list[Any] = [ECHO_TTL, f"{time.time():.3f}"]
        for (event_name, record_id), count in counts.items():
            keys.append(echo_key(self._member_id, event_name, record_id))
            args += [entry(event_name, record_id), count]
        self._redis.eval(_EXPECT, len(keys), *keys, *args)

    def _settle(self, latest: dict[tuple[str, int], int]) -> None:
        if not latest:
            return
        keys = [echo_key(self._member_id, e, r) for e, r in latest]
        self._redis.eval(_SETTLE, len(keys), *keys, *latest.values())


def _get(reply: Any, name: str) -> Any:
    if isinstance(reply, Mapping):
        return reply.get(name)
    return getattr(reply, name, None)
