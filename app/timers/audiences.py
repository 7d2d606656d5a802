"""Audience roles → portal user ids, for escalations and announcements.

Roles:
* ``responsible`` — the record's responsible (``assignedById``); ``store_admin`` is the same
  person in the furniture playbook (the lead is handed to the store's administrator).
* ``sales`` — every active user of the sales department (and its sub-departments).
* ``head_of_sales`` — the head (``UF_HEAD``) of the sales department.
* ``ceo`` — the head of the root department (the company).
* ``store_manager`` — furniture: ``store_managers[<store or city of the lead>]``.

A playbook setting wins over the portal's structure: ``sales_user_ids``,
``head_of_sales_id``, ``ceo_id``, ``sales_department`` (an id or a name; default: the first
department whose name contains «продаж» or "sales"). The structure comes from
``department.get`` / ``user.get`` through the gateway and is cached in the store
(``timer_directory``) for :data:`CACHE_TTL`, so an SOS every 15 minutes costs no REST calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.domain.stores import city_key
from app.rules.model import RESPONSIBLE_FIELD
from app.store.timers import DirectoryCache

CACHE_TTL = timedelta(hours=1)
SALES_NAMES = ("продаж", "sales")


def resolve(
    session_factory: Any,
    client: Any,
    member_id: str,
    roles: Iterable[str],
    settings: Mapping[str, Any],
    record: Mapping[str, Any] | None,
    now: datetime,
) -> dict[str, tuple[int, ...]]:
    """``{role: user ids}`` for each role (unknown roles → empty, never an error)."""
    roles = set(roles)
    out: dict[str, tuple[int, ...]] = {}
    directory: Directory | None = None
    for role in sorted(roles):
        if role in ("responsible", "store_admin"):
            out[role] = _ids([(record or {}).get(RESPONSIBLE_FIELD)])
        elif role == "store_manager":
            out[role] = _ids([store_manager(settings, record or {})])
        elif role in ("sales", "head_of_sales", "ceo"):
            override = _override(role, settings)
            if override is not None:
                out[role] = override
                continue
            if directory is None:
                directory = load_directory(session_factory, client, member_id, now)
            out[role] = directory.role(role, settings.get("sales_department"))
        else:
            out[role] = ()
    return out


def _override(role: str, settings: Mapping[str, Any]) -> tuple[int, ...] | None:
    key = {"sales": "sales_user_ids", "head_of_sales": "head_of_sales_id", "ceo": "ceo_id"}[role]
    value = settings.get(key)
    if value in (None, "", [], 0):
        return None
    return _ids(value if isinstance(value, list | tuple) else [value])


def _ids(values: Iterable[Any]) -> tuple[int, ...]:
    out: list[int] = []
    for v in values:
        try:
            n = int(v)
        except (TypeError, ValueError):
            continue
        if n > 0 and n not in out:
            out.append(n)
    return tuple(out)


def store_manager(settings: Mapping[str, Any], record: Mapping[str, Any]) -> Any:
    """``store_managers`` keyed by the lead's store, else by its city (normalised)."""
    table = settings.get("store_managers") or {}
    if not isinstance(table, Mapping):
        return None
    store = record.get("UF_CRM_FR_STORE")
    if store and store in table:
        return table[store]
    by_city = {city_key(k): v for k, v in table.items()}
    return by_city.get(city_key(record.get("UF_CRM_FR_CITY") or ""))


class Directory:
    """Departments and users of a portal (plain dicts as ``department.get``/``user.get``)."""

    def __init__(self, departments: list[dict], users: list[dict]) -> None:
        self.departments = {str(d["ID"]): d for d in departments}
        self.users = users

    def sales_department(self, wanted: Any = None) -> str | None:
        if wanted not in (None, ""):
            if str(wanted) in self.departments:
                return str(wanted)
            for dep_id, dep in self.departments.items():
                if str(dep.get("NAME", "")).strip().lower() == str(wanted).strip().lower():
                    return dep_id
            return None
        for dep_id, dep in sorted(self.departments.items(), key=lambda kv: int(kv[0])):
            if any(n in str(dep.get("NAME", "")).lower() for n in SALES_NAMES):
                return dep_id
        return None

    def subtree(self, root: str) -> set[str]:
        found, frontier = {root}, [root]
        while frontier:
            parent = frontier.pop()
            for dep_id, dep in self.departments.items():
                if str(dep.get("PARENT") or "") == parent and dep_id not in found:
                    found.add(dep_id)
                    frontier.append(dep_id)
        return found

    def role(self, role: str, sales_department: Any = None) -> tuple[int, ...]:
        if role == "ceo":
            roots = [d for d in self.departments.values() if not d.get("PARENT")]
            return _ids([roots[0].get("UF_HEAD")]) if roots else ()
        dep_id = self.sales_department(sales_department)
        if dep_id is None:
            return ()
        if role == "head_of_sales":
            return _ids([self.departments[dep_id].get("UF_HEAD")])
        deps = {int(d) for d in self.subtree(dep_id)}
        return _ids(
            u.get("ID")
            for u in self.users
            if u.get("ACTIVE") in (True, "Y", "true", 1)
            and deps & {int(d) for d in u.get("UF_DEPARTMENT") or []}
        )


def load_directory(session_factory: Any, client: Any, member_id: str, now: datetime) -> Directory:
    """The cached directory, refreshed from the portal when older than :data:`CACHE_TTL`."""
    with session_factory() as session:
        rows = {
            r.name: r
            for r in session.scalars(
                select(DirectoryCache).where(DirectoryCache.member_id == member_id)
            )
        }
        fresh = all(n in rows and now - rows[n].fetched_at < CACHE_TTL for n in ("dep", "users"))
        if fresh:
            return Directory(rows["dep"].data, rows["users"].data)
        departments = _all_pages(client, "department.get", {})
        users = _all_pages(client, "user.get", {"FILTER": {"ACTIVE": True}})
        users = [
            {k: u.get(k) for k in ("ID", "ACTIVE", "UF_DEPARTMENT", "NAME", "LAST_NAME")}
            for u in users
        ]
        for name, data in (("dep", departments), ("users", users)):
            row = rows.get(name) or DirectoryCache(member_id=member_id, name=name)
            row.data, row.fetched_at = data, now
            session.add(row)
        try:
            session.commit()
        except IntegrityError:  # a concurrent job cached it first; ours is as good
            session.rollback()
    return Directory(departments, users)


def _all_pages(client: Any, method: str, params: dict) -> list[dict]:
    out: list[dict] = []
    start: int | None = 0
    for _ in range(200):  # 10,000 rows: far beyond any company's structure
        page = client.call_list_page(method, {**params, "start": start})
        out.extend(page.result or [])
        start = page.next
        if not start:
            break
    return out
