"""Object («Объект») duplicate detection for the metal playbook (spec §1 lead rule 5).

An Object is a potential duplicate when width, length, height, area, construction site and
building purpose all match. Numbers are compared after unit/decimal-comma normalisation and
rounding to a tolerance quantum (default 0.01: "12,50 м" = "1250 см" = 12.5); texts after
:func:`normalise_text` (case, spaces, punctuation, ё→е). :func:`dedup_key` gives a stable
string and :func:`dedup_hash` a short hash to store in an indexed column, so a database query
finds candidates and :func:`find_matches` explains them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal

from app.domain.numbers import parse_area, parse_length
from app.domain.text import normalise_text

__all__ = [
    "KEY_FIELDS",
    "FIELD_LABELS",
    "ObjectKeys",
    "Match",
    "normalise_keys",
    "dedup_key",
    "dedup_hash",
    "find_matches",
]

KEY_FIELDS = ("width_m", "length_m", "height_m", "area_m2", "site", "purpose")
FIELD_LABELS = {
    "width_m": "Ширина",
    "length_m": "Длина",
    "height_m": "Высота",
    "area_m2": "Площадь",
    "site": "Место строительства",
    "purpose": "Назначение здания",
}
DEFAULT_TOLERANCE = Decimal("0.01")


@dataclass(frozen=True)
class ObjectKeys:
    """Normalised comparison keys; None / "" mean the field is empty."""

    width_m: Decimal | None
    length_m: Decimal | None
    height_m: Decimal | None
    area_m2: Decimal | None
    site: str
    purpose: str

    @property
    def is_complete(self) -> bool:
        """All six keys present — only then does the automatic duplicate check apply."""
        return all(getattr(self, f) not in (None, "") for f in KEY_FIELDS)


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _snap(value: Decimal, tolerance: Decimal) -> Decimal:
    # Round to the nearest multiple of the tolerance, then drop trailing zeros so that
    # 12.5 and 12.50 produce the same key text.
    steps = (value / tolerance).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return (steps * tolerance).normalize()


def normalise_keys(
    *,
    width: object = None,
    length: object = None,
    height: object = None,
    area: object = None,
    site: object = None,
    purpose: object = None,
    tolerance: Decimal = DEFAULT_TOLERANCE,
) -> ObjectKeys:
    """Normalise raw card values into :class:`ObjectKeys`.

    Lengths accept units ("350 см"), area "м²"; empty values stay None/"". A non-empty
    invalid number raises ValueProblem (the caller tells the responsible what to fix).

    >>> normalise_keys(width="12,50 м", site=" Казань,  ул. Ёлочная ").width_m
    Decimal('12.5')
    """

    def length_or_none(value: object, label: str) -> Decimal | None:
        return None if _empty(value) else _snap(parse_length(value, label), tolerance)

    return ObjectKeys(
        width_m=length_or_none(width, "Ширина"),
        length_m=length_or_none(length, "Длина"),
        height_m=length_or_none(height, "Высота"),
        area_m2=None if _empty(area) else _snap(parse_area(area, "Площадь"), tolerance),
        site=normalise_text(site),
        purpose=normalise_text(purpose),
    )


def dedup_key(keys: ObjectKeys) -> str:
    """Stable text key, e.g. "12.5|24|6|300|казань ул елочная|склад"; empty fields are ""."""
    parts = []
    for f in fields(keys):
        value = getattr(keys, f.name)
        parts.append(
            "" if value is None else (f"{value:f}" if isinstance(value, Decimal) else value)
        )
    return "|".join(parts)


def dedup_hash(keys: ObjectKeys) -> str:
    """32-hex-char SHA-256 prefix of :func:`dedup_key`, for an indexed column."""
    return hashlib.sha256(dedup_key(keys).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Match:
    """How an existing Object compares with the candidate."""

    object_id: int
    matched: tuple[str, ...]
    differing: tuple[str, ...]

    @property
    def is_duplicate(self) -> bool:
        return not self.differing

    def describe(self) -> str:
        """Russian text for the responsible: which fields matched and which did not."""
        same = ", ".join(FIELD_LABELS[f] for f in self.matched) or "—"
        text = f"Объект #{self.object_id}: совпадают {same}"
        if self.differing:
            text += "; отличаются " + ", ".join(FIELD_LABELS[f] for f in self.differing)
        return text


def find_matches(
    candidate: ObjectKeys,
    objects: Iterable[tuple[int, ObjectKeys]],
    *,
    required: Iterable[str] = KEY_FIELDS,
) -> list[Match]:
    """Objects whose ``required`` keys all equal the candidate's (sorted by id).

    A field matches only when both sides are non-empty and equal: two Objects that both lack
    a height are not thereby duplicates. Use a smaller ``required`` for a looser manual search.
    """
    required = tuple(required)
    unknown = set(required) - set(KEY_FIELDS)
    if unknown:
        raise ValueError(f"unknown key fields: {sorted(unknown)}")
    result = []
    for object_id, keys in objects:
        matched, differing = [], []
        for name in KEY_FIELDS:
            mine, theirs = getattr(candidate, name), getattr(keys, name)
            same = mine not in (None, "") and mine == theirs
            (matched if same else differing).append(name)
        if all(name in matched for name in required):
            result.append(Match(object_id, tuple(matched), tuple(differing)))
    return sorted(result, key=lambda m: m.object_id)
