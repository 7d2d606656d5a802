"""Column mapping: spreadsheet headers → import fields. Pure.

Headers are recognised in Russian and English after :func:`normalise_text` (case, spaces,
punctuation, ё). :func:`detect` proposes a mapping; :func:`apply_overrides` lets the
operator correct it (``--map "Тел. моб=phone"``, ``--map "Примечание=-"`` to ignore a
column). A field mapped from two columns, or an override naming an unknown column or
field, is an error: a wrong mapping must stop the import before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from app.domain.text import normalise_text

# field → the headers that mean it (normalised when compared)
SYNONYMS: Mapping[str, tuple[str, ...]] = {
    "company": (
        "компания", "организация", "название компании", "наименование", "контрагент",
        "клиент", "company", "company name", "organization", "organisation", "account",
    ),
    "inn": ("инн", "инн компании", "inn", "tin", "tax id", "taxpayer id"),
    "contact": (
        "контакт", "контактное лицо", "фио", "имя", "фио контакта", "contact",
        "contact name", "contact person", "name", "full name",
    ),
    "phone": (
        "телефон", "тел", "телефон контакта", "мобильный", "phone", "phone number",
        "mobile", "tel",
    ),
    "email": ("email", "e mail", "почта", "эл почта", "электронная почта", "mail"),
    "manager": (
        "ответственный", "менеджер", "ответственный менеджер", "manager", "responsible",
        "owner", "assigned to",
    ),
    "object": ("объект", "название объекта", "object", "object name"),
    "width": ("ширина", "ширина м", "width", "width m"),
    "length": ("длина", "длина м", "length", "length m"),
    "height": ("высота", "высота м", "height", "height m"),
    "area": ("площадь", "площадь м2", "площадь м²", "area", "area m2"),
    "site": ("место строительства", "адрес объекта", "construction site", "site"),
    "purpose": ("назначение здания", "назначение", "building purpose", "purpose"),
}  # fmt: skip
FIELDS = tuple(SYNONYMS)
IGNORE = "-"

_LOOKUP = {normalise_text(h): f for f, heads in SYNONYMS.items() for h in heads}


class MappingError(ValueError):
    """The mapping cannot be used; the message says which column or field."""


def detect(headers: Sequence[object]) -> dict[int, str]:
    """column index → field, for every header recognised (the first column wins a field)."""
    out: dict[int, str] = {}
    taken: set[str] = set()
    for i, header in enumerate(headers):
        field = _LOOKUP.get(normalise_text(header))
        if field and field not in taken:
            out[i] = field
            taken.add(field)
    return out


def parse_overrides(items: Iterable[str]) -> dict[str, str]:
    """``["Header=field", …]`` → {header: field}; ``field`` may be ``-`` (ignore)."""
    out: dict[str, str] = {}
    for item in items:
        header, sep, field = str(item).rpartition("=")
        if not sep or not header.strip() or not field.strip():
            raise MappingError(f"--map wants HEADER=FIELD, got {item!r}")
        out[header.strip()] = field.strip()
    return out


def apply_overrides(
    headers: Sequence[object], mapping: Mapping[int, str], overrides: Mapping[str, str]
) -> dict[int, str]:
    """``mapping`` corrected by ``overrides`` ({header text: field or ``-``})."""
    by_header = {normalise_text(h): i for i, h in enumerate(headers) if h not in (None, "")}
    out = dict(mapping)
    for header, field in overrides.items():
        index = by_header.get(normalise_text(header))
        if index is None:
            raise MappingError(f"no column named {header!r} in the sheet")
        if field == IGNORE:
            out.pop(index, None)
            continue
        if field not in FIELDS:
            raise MappingError(f"unknown field {field!r}; known: {', '.join(FIELDS)}")
        out = {i: f for i, f in out.items() if f != field}  # the override takes the field
        out[index] = field
    return dict(sorted(out.items()))


def check(mapping: Mapping[int, str]) -> None:
    """A usable mapping names who the row is (a company or a contact)."""
    fields = set(mapping.values())
    if len(fields) != len(mapping):
        raise MappingError("a field is mapped from two columns")
    if not fields & {"company", "contact"}:
        raise MappingError("no column for the company or the contact name; use --map")


def describe(headers: Sequence[object], mapping: Mapping[int, str]) -> list[str]:
    """Lines for the operator: ``«Телефон» → phone`` and the columns left out."""
    lines = [f"«{headers[i]}» → {f}" for i, f in sorted(mapping.items())]
    lines += [
        f"«{h}» → (ignored)"
        for i, h in enumerate(headers)
        if i not in mapping and h not in (None, "")
    ]
    return lines
