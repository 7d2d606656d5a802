"""Smart-process types (``crm.type.*``): row ``id`` vs ``entityTypeId``, flags, relations.

``entityTypeId`` must be in 128..192 or an even number >= 1030 (auto-assigned when omitted).
Relations arrive with ``isChildrenListEnabled`` as the strings ``"true"``/``"false"`` and are
printed as ``"Y"``/``"N"``; with ``isClientEnabled`` contact (3) and company (4) become
predefined parents.
"""

from __future__ import annotations

from typing import Any

from b24emu.crm.errors import CrmError, NotFoundError

FLAGS = {
    "isCategoriesEnabled": "N",
    "isStagesEnabled": "N",
    "isBeginCloseDatesEnabled": "N",
    "isClientEnabled": "N",
    "isUseInUserfieldEnabled": "N",
    "isLinkWithProductsEnabled": "N",
    "isMycompanyEnabled": "N",
    "isDocumentsEnabled": "N",
    "isSourceEnabled": "N",
    "isObserversEnabled": "N",
    "isRecyclebinEnabled": "N",
    "isAutomationEnabled": "N",
    "isBizProcEnabled": "N",
    "isSetOpenPermissions": "Y",
    "isPaymentsEnabled": "N",
    "isCountersEnabled": "N",
}
LINKED_UF = (
    "CALENDAR_EVENT|UF_CRM_CAL_EVENT",
    "TASKS_TASK|UF_CRM_TASK",
    "TASKS_TASK_TEMPLATE|UF_CRM_TASK",
)


def etid_allowed(etid: int) -> bool:
    return 128 <= etid <= 192 or (etid >= 1030 and etid % 2 == 0)


def _yn(value: Any) -> str:
    return "Y" if str(value).upper() in ("Y", "TRUE", "1") or value is True else "N"


def _relation_list(raw: Any) -> list[dict[str, Any]]:
    out = []
    for rel in raw.values() if isinstance(raw, dict) else raw or []:
        if not isinstance(rel, dict) or "entityTypeId" not in rel:
            continue
        enabled = str(rel.get("isChildrenListEnabled", "")).lower() == "true"
        out.append(
            {
                "entityTypeId": int(rel["entityTypeId"]),
                "isChildrenListEnabled": "Y" if enabled else "N",
                "isPredefined": "N",
            }
        )
    return out


class SmartTypes:
    def __init__(self) -> None:
        self.by_id: dict[int, dict[str, Any]] = {}
        self._next_id = 1

    def by_etid(self, etid: int) -> dict[str, Any] | None:
        for row in self.by_id.values():
            if row["entityTypeId"] == etid:
                return row
        return None

    def get(self, type_id: int) -> dict[str, Any]:
        row = self.by_id.get(type_id)
        if row is None:
            raise NotFoundError("Smart process not found")
        return row

    def _free_etid(self) -> int:
        used = {row["entityTypeId"] for row in self.by_id.values()}
        candidate = 128
        while candidate in used or not etid_allowed(candidate):
            candidate = candidate + 2 if candidate < 192 else max(candidate + 2, 1030)
        return candidate

    def add(self, fields: dict[str, Any], user_id: int, now: float) -> dict[str, Any]:
        title = str(fields.get("title") or "").strip()
        if not title:
            raise CrmError("CRM_FIELD_ERROR_REQUIRED", 'Field "title" is required', "title")
        etid = fields.get("entityTypeId")
        if etid in (None, ""):
            etid = self._free_etid()
        else:
            try:
                etid = int(etid)
            except (TypeError, ValueError):
                raise CrmError(
                    "INVALID_ARG_VALUE", "entityTypeId is out of allowed range"
                ) from None
            if not etid_allowed(etid):
                raise CrmError("INVALID_ARG_VALUE", "entityTypeId is out of allowed range")
            if self.by_etid(etid):
                raise CrmError("INVALID_ARG_VALUE", f"Type with entityTypeId {etid} already exists")
        row: dict[str, Any] = {
            "id": self._next_id,
            "title": title,
            "code": str(fields.get("code") or ""),
            "createdBy": user_id,
            "entityTypeId": etid,
            "customSectionId": None,
            **FLAGS,
            "createdTime": now,
            "updatedTime": now,
            "updatedBy": user_id,
            "relations": {"parent": [], "child": []},
            "linkedUserFields": {key: "N" for key in LINKED_UF},
            "customSections": [],
        }
        self._next_id += 1
        self._apply(row, fields)
        self.by_id[row["id"]] = row
        return row

    def update(
        self, type_id: int, fields: dict[str, Any], user_id: int, now: float
    ) -> dict[str, Any]:
        row = self.get(type_id)
        if "title" in fields and not str(fields["title"] or "").strip():
            raise CrmError("CRM_FIELD_ERROR_REQUIRED", 'Field "title" is required', "title")
        if "title" in fields:
            row["title"] = str(fields["title"]).strip()
        self._apply(row, fields)
        row["updatedTime"], row["updatedBy"] = now, user_id
        return row

    def _apply(self, row: dict[str, Any], fields: dict[str, Any]) -> None:
        for flag in FLAGS:
            if flag in fields:
                row[flag] = _yn(fields[flag])
        if row["isStagesEnabled"] == "N" and row["isCategoriesEnabled"] == "Y":
            row["isStagesEnabled"] = "Y"  # pipelines without stages do not exist
        relations = fields.get("relations")
        if isinstance(relations, dict):
            row["relations"] = {
                "parent": _relation_list(relations.get("parent")),
                "child": _relation_list(relations.get("child")),
            }
        linked = fields.get("linkedUserFields")
        if isinstance(linked, dict) and row["isUseInUserfieldEnabled"] == "Y":
            for key, value in linked.items():
                if key in row["linkedUserFields"]:
                    row["linkedUserFields"][key] = "Y" if str(value).lower() == "true" else "N"

    def parents(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        """Parent relations as printed, predefined client parents first."""
        explicit = [
            r
            for r in row["relations"]["parent"]
            if r["entityTypeId"] not in (3, 4) or row["isClientEnabled"] != "Y"
        ]
        predefined = []
        if row["isClientEnabled"] == "Y":
            predefined = [
                {"entityTypeId": etid, "isChildrenListEnabled": "Y", "isPredefined": "Y"}
                for etid in (3, 4)
            ]
        return predefined + explicit

    def delete(self, type_id: int) -> dict[str, Any]:
        return self.by_id.pop(self.get(type_id)["id"])
