"""Activities, timeline comments and automation triggers (tasks and notifications: work.py).

Rows are plain dicts with UPPER_CASE keys and native values; the method modules print them.
Every change emits its event through ``portal.emit`` with the acting user.
"""

from __future__ import annotations

from typing import Any

from b24emu.crm.errors import CrmError, NotFoundError


class RecordsMixin:
    portal: Any

    def init_records(self) -> None:
        self.activities: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, dict[str, Any]] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.checklist: dict[int, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.triggers: dict[str, dict[str, Any]] = {}
        self.trigger_placements: list[dict[str, Any]] = []
        self.trigger_runs: list[dict[str, Any]] = []
        self._record_ids = {"activity": 1, "comment": 1, "task": 1, "checklist": 1, "notify": 1}

    def _mint(self, kind: str) -> int:
        value = self._record_ids[kind]
        self._record_ids[kind] = value + 1
        return value

    # -- activities --------------------------------------------------------------------
    def add_activity(self, fields: dict[str, Any], user_id: int) -> dict[str, Any]:
        """``fields`` uses legacy keys (OWNER_TYPE_ID, OWNER_ID, TYPE_ID, SUBJECT, ...)."""
        now = int(self.portal.clock.now())
        row = {
            "ID": self._mint("activity"),
            "CREATED": now,
            "LAST_UPDATED": now,
            "AUTHOR_ID": user_id,
            "EDITOR_ID": user_id,
            "RESPONSIBLE_ID": user_id,
            "COMPLETED": "N",
            "DIRECTION": 0,
            "PRIORITY": 2,
            "STATUS": 1,
            "COMMUNICATIONS": [],
            **fields,
        }
        self.activities[row["ID"]] = row
        self._touch_owner(row.get("OWNER_TYPE_ID"), row.get("OWNER_ID"), user_id, now)
        self.portal.emit("ONCRMACTIVITYADD", {"FIELDS": {"ID": str(row["ID"])}}, user_id)
        return row

    def update_activity(
        self, activity_id: int, fields: dict[str, Any], user_id: int
    ) -> dict[str, Any]:
        row = self.get_activity(activity_id)
        row.update(fields, LAST_UPDATED=int(self.portal.clock.now()), EDITOR_ID=user_id)
        if row.get("COMPLETED") == "Y":
            row["STATUS"] = 2
        self.portal.emit("ONCRMACTIVITYUPDATE", {"FIELDS": {"ID": str(activity_id)}}, user_id)
        return row

    def get_activity(self, activity_id: int) -> dict[str, Any]:
        row = self.activities.get(int(activity_id))
        if row is None:
            raise NotFoundError("Not found")
        return row

    def delete_activity(self, activity_id: int, user_id: int) -> None:
        self.get_activity(activity_id)
        del self.activities[int(activity_id)]
        self.portal.emit("ONCRMACTIVITYDELETE", {"FIELDS": {"ID": str(activity_id)}}, user_id)

    def _touch_owner(self, etid: Any, owner_id: Any, user_id: int, now: float) -> None:
        """New activity on an item moves its lastActivity* fields (no UPDATE event)."""
        try:
            owner = self.get_item(int(etid), int(owner_id))  # type: ignore[attr-defined]
        except (CrmError, TypeError, ValueError):
            return
        owner["lastActivityTime"], owner["lastActivityBy"] = now, user_id

    # -- timeline comments -------------------------------------------------------------
    def add_comment(
        self, etid: int, owner_id: int, comment: str, user_id: int, files: Any = None
    ) -> dict[str, Any]:
        try:
            self.get_item(etid, owner_id)  # type: ignore[attr-defined]
        except CrmError:
            raise CrmError("OWNER_NOT_FOUND", "Owner entity not found") from None
        row = {
            "ID": self._mint("comment"),
            "CREATED": int(self.portal.clock.now()),
            "ENTITY_ID": int(owner_id),
            "ENTITY_TYPE_ID": etid,
            "AUTHOR_ID": user_id,
            "COMMENT": comment,
            "FILES": files or [],
        }
        self.comments[row["ID"]] = row
        self._touch_owner(etid, owner_id, user_id, row["CREATED"])
        self.portal.emit("ONCRMTIMELINECOMMENTADD", {"ID": row["ID"]}, user_id)
        return row

    def get_comment(self, comment_id: int) -> dict[str, Any]:
        row = self.comments.get(int(comment_id))
        if row is None:
            raise NotFoundError("Comment not found")
        return row

    def update_comment(self, comment_id: int, comment: str, user_id: int) -> dict[str, Any]:
        row = self.get_comment(comment_id)
        row["COMMENT"] = comment
        self.portal.emit("ONCRMTIMELINECOMMENTUPDATE", {"ID": row["ID"]}, user_id)
        return row

    def delete_comment(self, comment_id: int, user_id: int) -> None:
        row = self.get_comment(comment_id)
        del self.comments[row["ID"]]
        self.portal.emit("ONCRMTIMELINECOMMENTDELETE", {"ID": row["ID"]}, user_id)

    # -- automation triggers -----------------------------------------------------------
    def place_trigger(
        self, etid: int, stage_id: str, code: str, category_id: int | None = None
    ) -> None:
        """What a user does in the automation UI: put trigger ``code`` on a stage."""
        self.trigger_placements.append(
            {"etid": int(etid), "category_id": category_id, "stage_id": stage_id, "code": code}
        )

    def execute_trigger(self, code: str, etid: int, item_id: int, user_id: int) -> bool:
        """Move the item to the stage holding the trigger (if any); returns whether it moved."""
        item = self.get_item(etid, item_id)  # type: ignore[attr-defined]
        self.trigger_runs.append({"code": code, "etid": etid, "id": item_id})
        for placement in self.trigger_placements:
            same_cat = placement["category_id"] is None or placement["category_id"] == item.get(
                "categoryId"
            )
            if placement["code"] == code and placement["etid"] == etid and same_cat:
                if item.get("stageId") != placement["stage_id"]:
                    self.update_item(etid, item_id, {"stageId": placement["stage_id"]}, user_id)  # type: ignore[attr-defined]
                    return True
        return False
