"""Plan a merge of duplicate Objects (metal playbook, "merge duplicate Objects").

The employee picks a main Object, its duplicates and, where values disagree, which Object's
value to keep. :func:`plan_merge` returns what to write on the main Object, which links move
and which Objects to delete — nothing is applied here, and the plan is deterministic
(duplicates are consulted in ascending id order whatever order they were picked in).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.domain.text import normalise_text

__all__ = ["MergeError", "ObjectRecord", "LinkMove", "Conflict", "MergePlan", "plan_merge"]


class MergeError(ValueError):
    """The merge request itself is invalid (Russian message)."""


@dataclass(frozen=True)
class ObjectRecord:
    """An Object: its field values and linked entities by kind ("lead", "deal", "contact")."""

    id: int
    fields: Mapping[str, object]
    links: Mapping[str, frozenset[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkMove:
    kind: str
    entity_id: int
    from_object: int
    to_object: int


@dataclass(frozen=True)
class Conflict:
    """A field with different non-empty values and no choice; ``values`` by object id."""

    field: str
    values: tuple[tuple[int, object], ...]
    kept_from: int | None  # whose value the plan keeps (None: main stays empty)


@dataclass(frozen=True)
class MergePlan:
    main_id: int
    updates: Mapping[str, object]  # fields to write on the main Object
    sources: Mapping[str, int]  # field → Object id the written value came from
    moves: tuple[LinkMove, ...]
    deletes: tuple[int, ...]
    conflicts: tuple[Conflict, ...]

    @property
    def needs_choice(self) -> bool:
        """True when some field had competing values and no choice was given."""
        return bool(self.conflicts)


def _empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | frozenset | dict):
        return not value
    return False


def _same(a: object, b: object) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return normalise_text(a) == normalise_text(b)
    return a == b


def plan_merge(
    main: ObjectRecord,
    duplicates: Sequence[ObjectRecord],
    choices: Mapping[str, int] | None = None,
) -> MergePlan:
    """Plan merging ``duplicates`` into ``main``.

    Per field: a choice (field → Object id among main/duplicates) wins; otherwise the main
    value stays when set, and an empty main field takes the first non-empty duplicate value
    (ascending id). Fields where distinct non-empty values compete without a choice are
    listed in ``conflicts`` (the plan still says which value it would keep).
    Links of duplicates move to main unless main already has them; duplicates are deleted.

    Raises MergeError: no duplicates, main among duplicates, a duplicate repeated, a choice
    naming an Object that is not part of the merge.
    """
    choices = dict(choices or {})
    if not duplicates:
        raise MergeError("Не выбраны дубликаты для объединения")
    ids = [d.id for d in duplicates]
    if main.id in ids:
        raise MergeError(f"Основной объект #{main.id} не может быть своим дубликатом")
    if len(set(ids)) != len(ids):
        raise MergeError("Дубликат выбран дважды")
    dups = sorted(duplicates, key=lambda d: d.id)
    by_id = {main.id: main, **{d.id: d for d in dups}}
    for name, chosen in choices.items():
        if chosen not in by_id:
            raise MergeError(f"Поле «{name}»: объект #{chosen} не участвует в объединении")

    names = list(main.fields)
    for d in dups:
        names += [n for n in d.fields if n not in names]
    for n in choices:
        if n not in names:
            names.append(n)

    updates: dict[str, object] = {}
    sources: dict[str, int] = {}
    conflicts: list[Conflict] = []
    for name in names:
        current = main.fields.get(name)
        if name in choices:
            value = by_id[choices[name]].fields.get(name)
            if not _same(value, current):
                updates[name], sources[name] = value, choices[name]
            continue
        filled = [(o.id, o.fields.get(name)) for o in (main, *dups)]
        filled = [(i, v) for i, v in filled if not _empty(v)]
        distinct = []
        for i, v in filled:
            if not any(_same(v, w) for _, w in distinct):
                distinct.append((i, v))
        if _empty(current) and filled:
            updates[name], sources[name] = filled[0][1], filled[0][0]
        if len(distinct) > 1:
            conflicts.append(Conflict(name, tuple(filled), filled[0][0]))

    moves = []
    for d in dups:
        for kind in sorted(d.links):
            have = main.links.get(kind, frozenset())
            moves += [
                LinkMove(kind, e, d.id, main.id) for e in sorted(d.links[kind]) if e not in have
            ]
    # The same entity linked to two duplicates moves once.
    unique: dict[tuple[str, int], LinkMove] = {}
    for m in moves:
        unique.setdefault((m.kind, m.entity_id), m)
    return MergePlan(
        main.id, updates, sources, tuple(unique.values()), tuple(sorted(ids)), tuple(conflicts)
    )
