"""Communication index for ``crm.duplicate.findbycomm``: normalised phone / e-mail → items."""

from __future__ import annotations

import re
from typing import Any

_EXTENSION = re.compile(r"(ext\.?|доб\.?|#|x|,).*$", re.IGNORECASE)


def normalize(type_id: str, value: str) -> str:
    """Phones: digits only, extensions dropped, Russian numbers in E.164 form (the emulated
    portal is a Russian one: ``8 900 …`` and ``900 …`` are ``+7 900 …`` like the portal's
    phone parser makes them; exact parser rules UNCONFIRMED). E-mails: trimmed, lower-case."""
    if type_id == "PHONE":
        digits = re.sub(r"\D", "", _EXTENSION.sub("", str(value)))
        if len(digits) == 11 and digits.startswith("8"):
            return "7" + digits[1:]
        if len(digits) == 10 and digits.startswith("9"):
            return "7" + digits
        return digits
    return str(value).strip().lower()


class CommIndex:
    """Lists, not sets: most values belong to one item, and 100,000 sets cost far more."""

    def __init__(self) -> None:
        self._index: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self._keys: dict[tuple[int, int], tuple[tuple[str, str], ...]] = {}

    def set_item(self, etid: int, item_id: int, fm: list[dict[str, Any]]) -> None:
        self.drop_item(etid, item_id)
        keys = {
            (v["typeId"], normalize(v["typeId"], v["value"]))
            for v in fm
            if v["typeId"] in ("PHONE", "EMAIL")
        }
        keys = {k for k in keys if k[1]}
        member = (etid, item_id)
        for key in keys:
            self._index.setdefault(key, []).append(member)
        if keys:
            self._keys[member] = tuple(keys)

    def drop_item(self, etid: int, item_id: int) -> None:
        member = (etid, item_id)
        for key in self._keys.pop(member, ()):
            holders = self._index.get(key, [])
            if member in holders:
                holders.remove(member)
            if not holders:
                self._index.pop(key, None)

    def find(self, type_id: str, value: str) -> set[tuple[int, int]]:
        norm = normalize(type_id, value)
        return set(self._index.get((type_id, norm), ())) if norm else set()
