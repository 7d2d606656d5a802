"""The recent steps of a portal's install/update, for the settings page's progress panel.

The installation row keeps only the latest progress line and error
(``installations.set_progress``); the page also shows the steps before it. Each line is
appended to a short Redis list (the latest ``KEEP`` lines, for a day), cleared when a new
install starts. Best effort: Redis trouble never fails an install over its progress log.
"""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger(__name__)
KEEP = 60
TTL_S = 24 * 3600


def _key(member_id: str) -> str:
    return f"b24:install:steps:{member_id}"


def clear(redis: Any, member_id: str) -> None:
    try:
        redis.delete(_key(member_id))
    except Exception:  # noqa: BLE001 - the log is a convenience, the install goes on
        log.warning("install step log not cleared", exc_info=True)


def add(redis: Any, member_id: str, text: str) -> None:
    try:
        pipe = redis.pipeline()
        pipe.rpush(_key(member_id), f"{int(time.time())}\t{text[:500]}")
        pipe.ltrim(_key(member_id), -KEEP, -1)
        pipe.expire(_key(member_id), TTL_S)
        pipe.execute()
    except Exception:  # noqa: BLE001
        log.warning("install step not logged", exc_info=True)


def read(redis: Any, member_id: str) -> list[tuple[int, str]]:
    """(unix time, text) of the recent steps, oldest first."""
    try:
        raw = redis.lrange(_key(member_id), 0, -1)
    except Exception:  # noqa: BLE001
        return []
    out = []
    for item in raw:
        at, _, text = (item.decode() if isinstance(item, bytes) else item).partition("\t")
        out.append((int(at) if at.isdigit() else 0, text))
    return out
