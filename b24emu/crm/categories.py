"""Pipelines (``crm.category.*``): deal pipeline 0 "General", contact/company default 0,
smart-process pipelines with real ids. Ids are one counter for the whole portal."""

from __future__ import annotations

from typing import Any

from b24emu.crm.errors import CrmError, NotFoundError
from b24emu.crm.schema import COMPANY, CONTACT, DEAL, LEAD, TYPE_NAMES


class Categories:
    def __init__(self) -> None:
        self.by_type: dict[int, dict[int, dict[str, Any]]] = {}
        self._next_id = 1
        self.by_type[DEAL] = {0: self._row(0, "General", 300, DEAL, True)}
        for etid in (CONTACT, COMPANY):
            self.by_type[etid] = {0: self._row(0, "General", 500, etid, True)}

    @staticmethod
    def _row(cid: int, name: str, sort: int, etid: int, default: bool) -> dict[str, Any]:
        return {
            "id": cid,
            "name": name,
            "sort": sort,
            "entityTypeId": etid,
            "isDefault": "Y" if default else "N",
            "originId": "",
            "originatorId": "",
        }

    def check_supported(self, etid: int, known_types: set[int]) -> None:
        if etid == LEAD:
            raise CrmError(
                "ENTITY_TYPE_NOT_SUPPORTED", f"Entity type `{TYPE_NAMES[LEAD]}` is not supported"
            )
        if etid not in self.by_type and etid not in known_types:
            raise NotFoundError("Smart process not found")

    def list(self, etid: int) -> list[dict[str, Any]]:
        return sorted(self.by_type.get(etid, {}).values(), key=lambda r: (r["sort"], r["id"]))

    def get(self, etid: int, cid: int) -> dict[str, Any]:
        row = self.by_type.get(etid, {}).get(cid)
        if row is None:
            raise NotFoundError("Element not found")
        return row

    def exists(self, etid: int, cid: int) -> bool:
        return cid in self.by_type.get(etid, {})

    def default_id(self, etid: int) -> int | None:
        for row in self.by_type.get(etid, {}).values():
            if row["isDefault"] == "Y":
                return row["id"]
        return None

    def add(
        self, etid: int, name: str, sort: int = 500, is_default: bool = False
    ) -> dict[str, Any]:
        if not str(name).strip():
            raise CrmError("CRM_FIELD_ERROR_REQUIRED", 'Field "name" is required', "name")
        cid = self._next_id
        self._next_id += 1
        rows = self.by_type.setdefault(etid, {})
        first = not rows
        row = self._row(cid, str(name)[:255], max(0, int(sort)), etid, first)
        rows[cid] = row
        if is_default and etid != DEAL:
            self.set_default(etid, cid)
        return row

    def set_default(self, etid: int, cid: int) -> None:
        for row in self.by_type[etid].values():
            row["isDefault"] = "Y" if row["id"] == cid else "N"

    def update(self, etid: int, cid: int, fields: dict[str, Any]) -> dict[str, Any]:
        row = self.get(etid, cid)
        if "name" in fields:
            if not str(fields["name"]).strip():
                raise CrmError("CRM_FIELD_ERROR_REQUIRED", 'Field "name" is required', "name")
            row["name"] = str(fields["name"])[:255]
        if "sort" in fields:
            row["sort"] = max(0, int(fields["sort"]))
        if str(fields.get("isDefault", "")).upper() == "Y" and etid != DEAL:
            self.set_default(etid, cid)
        return row

    def delete(self, etid: int, cid: int, has_items: bool) -> None:
        row = self.get(etid, cid)
        if row["isDefault"] == "Y":
            raise CrmError("REMOVING_DISABLED", "The default pipeline cannot be deleted")
        if has_items:
            if etid == DEAL:
                raise CrmError("0", f"Deals related to the funnel {row['name']} found")
            raise CrmError("BX_ERROR", "Elements related to the funnel found")
        del self.by_type[etid][cid]

    def drop_type(self, etid: int) -> list[int]:
        return list(self.by_type.pop(etid, {}))
