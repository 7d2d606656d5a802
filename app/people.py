"""People's names and the portal's clock, for everything the app shows a person.

Pages, reports and CLI tables used to show users as «#5» and times in UTC. This module
keeps, per portal, what the portal calls its users and which UTC offset it runs at, and
formats both:

* :func:`refresh` (jobs and the CLI only — it calls the portal) reads ``user.get`` page by
  page (``NAME``, ``LAST_NAME``, ``SECOND_NAME``, ``ACTIVE``, ``TIME_ZONE``; official docs
  ``api-reference/user/user-get.md``; every user, so a former employee still has a name)
  and ``server.time`` (``api-reference/common/system/server-time.md``: the portal server's
  time as ``YYYY-MM-DDThh:mm:ss±hh:mm``, the zone all REST datetimes are expressed in,
  ``api-reference/data-types.md``), and stores them (``app.store.people``).
  :func:`refresh_if_stale` does so when the copy is older than :data:`TTL`: names that
  change on the portal show up within that time, and after every ``sync``.
* :class:`People` (store only, for request handlers) answers ``name(user_id)`` — «Имя
  Фамилия», ``#id`` for a user the portal never listed — and ``local(dt)``: ``dt`` in the
  user's own ``TIME_ZONE`` when asked for a user who set one, else in the portal's offset,
  else in the ``fallback`` zone (a playbook's ``time_zone`` setting), else UTC.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

TTL = timedelta(hours=1)
USER_FIELDS = ("ID", "NAME", "LAST_NAME", "SECOND_NAME", "ACTIVE", "TIME_ZONE")
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})$")
_MAX_PAGES = 400  # 20,000 users: beyond any portal this app serves


def display_name(user: Mapping[str, Any]) -> str:
    """«Имя Фамилия» as the portal shows a user (NAME LAST_NAME; SECOND_NAME is left out)."""
    return " ".join(str(user.get(k) or "").strip() for k in ("NAME", "LAST_NAME")).strip()


def offset_of(server_time: Any) -> str | None:
    """``"+03:00"`` from a ``server.time`` answer (``2024-08-05T12:02:13+03:00``)."""
    found = _OFFSET.search(str(server_time or "").strip())
    if not found:
        return None
    sign, hours, minutes = found.groups()
    return f"{sign}{hours}:{minutes}"


def refresh(session_factory: Any, client: Any, member_id: str, now: datetime) -> int:
    """Read the portal's users and clock and store them; returns the number of users."""
    from app.store import people

    users: dict[str, Any] = {}
    start: int | None = 0
    for _ in range(_MAX_PAGES):
        page = client.call_list_page(
            "user.get", {"select": list(USER_FIELDS), "start": start}, priority="sync"
        )
        for user in page.result or []:
            if user.get("ID") is None:
                continue
            users[str(user["ID"])] = {
                "name": display_name(user),
                "time_zone": str(user.get("TIME_ZONE") or ""),
                "active": user.get("ACTIVE") in (True, "Y", "true", 1),
            }
        start = page.next
        if not start:
            break
    offset = offset_of(client.call("server.time", priority="sync"))
    with session_factory() as session:
        people.put(session, member_id, users, offset, now)
        session.commit()
    log.info("portal people refreshed: %d users, UTC offset %s", len(users), offset or "?")
    return len(users)


def refresh_if_stale(
    session_factory: Any, client: Any, member_id: str, now: datetime, ttl: timedelta = TTL
) -> bool:
    """:func:`refresh` when the stored copy is missing or older than ``ttl``."""
    from app.store import people

    with session_factory() as session:
        row = people.get(session, member_id)
        if row is not None and now - row.fetched_at < ttl:
            return False
    refresh(session_factory, client, member_id, now)
    return True


def _zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    offset = _OFFSET.fullmatch(name)
    if offset:
        sign, hours, minutes = offset.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class People:
    """One portal's people and clock, from the store (build once per page or report)."""

    def __init__(self, users: Mapping[str, Any], utc_offset: str | None, fallback: Any = None):
        self.users = dict(users)
        self.zone: tzinfo = _zone(utc_offset) or _zone(str(fallback or "")) or UTC

    @classmethod
    def load(cls, session, member_id: str, fallback_zone: Any = None) -> People:
        """The stored copy; before the first refresh, the names the timers' directory has."""
        from sqlalchemy import select

        from app.store import people
        from app.store.timers import DirectoryCache

        row = people.get(session, member_id)
        if row is not None:
            return cls(row.users or {}, row.utc_offset, fallback_zone)
        cached = session.scalar(
            select(DirectoryCache).where(
                DirectoryCache.member_id == member_id, DirectoryCache.name == "users"
            )
        )
        users = {
            str(u["ID"]): {"name": display_name(u)}
            for u in (cached.data if cached is not None else None) or []
            if u.get("ID") is not None
        }
        return cls(users, None, fallback_zone)

    def name(self, user_id: Any, empty: str = "") -> str:
        """«Имя Фамилия»; ``#id`` when unknown or nameless; ``empty`` when unset (0/"")."""
        key = str(user_id or "").strip()
        if not key or key == "0":
            return empty
        return str((self.users.get(key) or {}).get("name") or "") or f"#{key}"

    def local(self, moment: datetime | None, user_id: Any = None) -> datetime | None:
        """``moment`` in the user's own time zone (when set), else the portal's."""
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # the store keeps naive values as UTC
        own = _zone(str((self.users.get(str(user_id or "")) or {}).get("time_zone") or ""))
        return moment.astimezone(own or self.zone)

    def when(self, moment: datetime | None, user_id: Any = None, fmt: str = "%d.%m.%Y %H:%M"):
        """``moment`` formatted in the portal's (or the user's) time; "" for None."""
        local = self.local(moment, user_id)
        return local.strftime(fmt) if local is not None else ""

    def label(self) -> str:
        """``UTC+03:00`` — said next to times so nobody guesses the zone."""
        offset = datetime.now(UTC).astimezone(self.zone).strftime("%z")
        return f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
