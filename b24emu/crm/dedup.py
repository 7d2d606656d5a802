"""Communication index for ``crm.duplicate.findbycomm``: normalised phone / e-mail → items."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

_EXTENSION = re.compile(r"(ext\.?|доб\.?|#|x|,).*$", re.IGNORECASE)


def normalize(type_id: str, value: str) -> str:
    """Phones: digits only, extensions dropped; e-mails: trimmed, lower-case."""
    if type_id == "PHONE":
        return re.sub(r"\D", "", _EXTENSION.sub("", str(value)))
    return str(value).strip().lower()


class CommIndex:
    def __init__(self) -> None:
        self._index: dict[tuple[str, str], set[tuple[int, int]]] = defaultdict(set)
        self._keys: dict[tuple[int, int], set[tuple[str, str]]] = {}

    def set_item(self, etid: int, item_id: int, fm: list[dict[str, Any]]) -> None:
        self.drop_item(etid, item_id)
        keys = {
            (v["typeId"], normalize(v["typeId"], v["value"]))
            for v in fm
            if v["typeId"] in ("PHONE", "EMAIL")
        }
        keys = {k for k in keys if k[1]}
        for key in keys:
            self._index[key].add((etid, item_id))
        if keys:
            self._keys[(etid, item_id)] = keys

    def drop_item(self, etid: int, item_id: int) -> None:
        for key in self._keys.pop((etid, item_id), set()):
            self._index[key].discard((etid, item_id))

    def find(self, type_id: str, value: str) -> set[tuple[int, int]]:
        norm = normalize(type_id, value)
        return set(self._index.get((type_id, norm), set())) if norm else set()
