"""Related data read from our own store before rules decide (rules cannot do I/O).

``fetch.related_commands`` reads related records from the portal; some rules need what only
the store knows (the Object duplicate index, the client a lead's e-mail belongs to in the
mirror). A playbook registers a provider under a need name; a rule lists that name in
``Rule.needs``; the job calls :func:`gather` with the fetched record and puts each result in
``ctx.related[name]``. Providers only read (no portal calls, no writes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GatherEnv:
    session: Any
    member_id: str
    naming: Any
    entity: str
    record_id: int
    record: Mapping[str, Any] | None  # the current record, stable codes (normalized)
    related: Mapping[str, Any]  # what the portal fetch returned (raw)


Provider = Callable[[GatherEnv], Any]
# (actions decided for other records but not applied yet, env) → True when applying them
# could change what the provider answers for env's record
Conflict = Callable[[Sequence[Any], GatherEnv], bool]
_PROVIDERS: dict[str, Provider] = {}
_CONFLICTS: dict[str, Conflict] = {}


def provider(name: str, *, conflicts: Conflict | None = None) -> Callable[[Provider], Provider]:
    """Register ``fn`` as the provider of need ``name`` (decorator). ``conflicts`` tells
    when other records' pending actions could change its answer (``app.sync.group`` then
    applies them before deciding this record); without it, any pending action could."""

    def add(fn: Provider) -> Provider:
        _PROVIDERS[name] = fn
        if conflicts is not None:
            _CONFLICTS[name] = conflicts
        else:
            _CONFLICTS.pop(name, None)
        return fn

    return add


def store_needs(needs: Iterable[str]) -> frozenset[str]:
    """The needs in ``needs`` that a store provider answers (the rest come from the portal)."""
    return frozenset(n for n in needs if n in _PROVIDERS)


def pending_conflict(
    session_factory: Callable[[], Any],
    member_id: str,
    naming: Any,
    entity: str,
    record_id: int,
    raw: Mapping[str, Any] | None,
    related: Mapping[str, Any],
    needs: Iterable[str],
    pending: Sequence[Any],
) -> bool:
    """True when applying ``pending`` (other records' actions) first could change what
    :func:`gather` answers for this record — processing one record at a time would have
    applied them first."""
    wanted = sorted(store_needs(needs))
    if not wanted or not pending:
        return False
    if any(name not in _CONFLICTS for name in wanted):
        return True
    from app.rules.changes import normalize

    record = normalize(entity, raw, naming) if raw is not None else None
    with session_factory() as session:
        env = GatherEnv(session, member_id, naming, entity, int(record_id), record, related)
        return any(_CONFLICTS[name](pending, env) for name in wanted)


def gather(
    session_factory: Callable[[], Any],
    member_id: str,
    naming: Any,
    entity: str,
    record_id: int,
    raw: Mapping[str, Any] | None,
    related: Mapping[str, Any],
    needs: Iterable[str],
) -> dict[str, Any]:
    """``need → value`` for every registered need in ``needs`` (others are left alone)."""
    wanted = sorted(n for n in set(needs) if n in _PROVIDERS)
    if not wanted:
        return {}
    from app.rules.changes import normalize

    record = normalize(entity, raw, naming) if raw is not None else None
    out: dict[str, Any] = {}
    with session_factory() as session:
        env = GatherEnv(session, member_id, naming, entity, int(record_id), record, related)
        for name in wanted:
            out[name] = _PROVIDERS[name](env)
    return out
