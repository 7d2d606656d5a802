"""Store reads every widget page needs: the portal's naming and people's names.

No portal call: the SchemaMap comes from the installer's records, names from the cached
portal directory (``timer_directory``, refreshed by the jobs that notify people).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select


def naming(session, member_id: str) -> Any:
    """The portal's SchemaMap (stable codes ↔ real field/stage/type names)."""
    from app.installers.mapping import resolve

    return resolve(session, member_id)


def user_name(session, member_id: str, user_id: Any) -> str:
    """«Имя Фамилия» from the cached portal directory, else ``#id`` ("" when unset)."""
    from app.store.timers import DirectoryCache

    if user_id in (None, "", 0, "0"):
        return ""
    row = session.scalar(
        select(DirectoryCache).where(
            DirectoryCache.member_id == member_id, DirectoryCache.name == "users"
        )
    )
    for user in (row.data if row is not None else None) or []:
        if str(user.get("ID")) == str(user_id):
            name = " ".join(str(user.get(k) or "") for k in ("NAME", "LAST_NAME")).strip()
            if name:
                return name
    return f"#{user_id}"
