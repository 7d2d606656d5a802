"""Furniture hand-off to the nearest store (spec §2 lead rule 2): a city → store table.

Cities are matched after normalisation and without the "г." / "город" prefix, so «г. Минск»,
«МИНСК» and «Минск » find the same store. Staff are user ids resolved by the playbook.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.domain.text import normalise_text

__all__ = ["Store", "city_key", "StoreTable", "store_table", "find_store"]


@dataclass(frozen=True)
class Store:
    name: str
    administrator_id: int
    manager_id: int | None = None  # «заведующий магазином», notified on escalation


def city_key(city: object) -> str:
    """Normalised city name without the "г"/"город" prefix.

    >>> city_key("г. Санкт-Петербург")
    'санкт петербург'
    """
    words = normalise_text(city).split()
    while words and words[0] in ("г", "гор", "город"):
        words = words[1:]
    return " ".join(words)


@dataclass(frozen=True)
class StoreTable:
    by_city: Mapping[str, Store]
    default: Store | None = None


def store_table(
    rows: Iterable[tuple[str, Store]], default: Store | None = None
) -> tuple[StoreTable, list[str]]:
    """Build the table from (city, store) rows; returns it with Russian problems (a city
    listed twice — the first row wins — or an empty city name)."""
    table: dict[str, Store] = {}
    problems = []
    for city, store in rows:
        key = city_key(city)
        if not key:
            problems.append(f"Магазин «{store.name}»: не указан город")
        elif key in table:
            problems.append(f"Город «{city}» указан дважды — используется «{table[key].name}»")
        else:
            table[key] = store
    return StoreTable(table, default), problems


def find_store(table: StoreTable, city: object) -> Store | None:
    """The store for the client's city, else the table's default, else None."""
    return table.by_city.get(city_key(city), table.default)
