"""Tasks, task checklists and notifications of the emulated portal (UPPER keys for tasks,
lower-case keys for notifications). Mixed into :class:`b24emu.crm.store.CrmStore`."""

from __future__ import annotations

from typing import Any

from b24emu.crm.errors import NotFoundError


class WorkMixin:
    """Needs ``self.portal``, ``self._mint``, ``self.tasks``, ``self.checklist``, ``self.notifications``."""

    portal: Any
    tasks: dict[int, dict[str, Any]]
    checklist: dict[int, dict[str, Any]]
    notifications: list[dict[str, Any]]

    # -- tasks -------------------------------------------------------------------------
    def add_task(self, fields: dict[str, Any], user_id: int) -> dict[str, Any]:
        """``fields`` uses UPPER keys (TITLE, RESPONSIBLE_ID, UF_CRM_TASK, ...)."""
        now = int(self.portal.clock.now())
        row = {
            "ID": self._mint("task"),
            "STATUS": 2,
            "PRIORITY": 1,
            "CREATED_BY": user_id,
            "CREATED_DATE": now,
            "CHANGED_BY": user_id,
            "CHANGED_DATE": now,
            "GROUP_ID": 0,
            "UF_CRM_TASK": [],
            "AUDITORS": [],
            "ACCOMPLICES": [],
            "DESCRIPTION": "",
            "DEADLINE": None,
            "PARENT_ID": None,
            "CLOSED_DATE": None,
            **fields,
        }
        self.tasks[row["ID"]] = row
        data = {
            "FIELDS_BEFORE": "undefined",
            "FIELDS_AFTER": {"ID": str(row["ID"])},
            "IS_ACCESSIBLE_BEFORE": "N",
            "IS_ACCESSIBLE_AFTER": "undefined",
        }
        self.portal.emit("ONTASKADD", data, user_id)
        return row

    def update_task(self, task_id: int, fields: dict[str, Any], user_id: int) -> dict[str, Any]:
        row = self.get_task(task_id)
        row.update(fields, CHANGED_BY=user_id, CHANGED_DATE=int(self.portal.clock.now()))
        if int(row["STATUS"]) == 5 and row.get("CLOSED_DATE") is None:
            row["CLOSED_DATE"] = row["CHANGED_DATE"]
        data = {
            "FIELDS_BEFORE": {"ID": str(task_id)},
            "FIELDS_AFTER": {"ID": str(task_id)},
            "IS_ACCESSIBLE_BEFORE": "undefined",
            "IS_ACCESSIBLE_AFTER": "undefined",
        }
        self.portal.emit("ONTASKUPDATE", data, user_id)
        return row

    def get_task(self, task_id: int) -> dict[str, Any]:
        row = self.tasks.get(int(task_id))
        if row is None:
            raise NotFoundError("Task not found")
        return row

    def delete_task(self, task_id: int, user_id: int) -> None:
        row = self.get_task(task_id)
        del self.tasks[row["ID"]]
        for item_id in [i for i, c in self.checklist.items() if c["TASK_ID"] == row["ID"]]:
            del self.checklist[item_id]
        data = {
            "FIELDS_BEFORE": {"ID": str(row["ID"])},
            "FIELDS_AFTER": "undefined",
            "IS_ACCESSIBLE_BEFORE": "undefined",
            "IS_ACCESSIBLE_AFTER": "N",
        }
        self.portal.emit("ONTASKDELETE", data, user_id)

    def add_checklist_item(
        self, task_id: int, fields: dict[str, Any], user_id: int
    ) -> dict[str, Any]:
        self.get_task(task_id)
        row = {
            "ID": self._mint("checklist"),
            "TASK_ID": int(task_id),
            "PARENT_ID": 0,
            "CREATED_BY": user_id,
            "SORT_INDEX": 0,
            "IS_COMPLETE": "N",
            "IS_IMPORTANT": "N",
            "TOGGLED_BY": None,
            "TOGGLED_DATE": None,
            "MEMBERS": {},
            **fields,
        }
        self.checklist[row["ID"]] = row
        return row

    # -- notifications -----------------------------------------------------------------
    def notify(
        self,
        to_user: int,
        message: str,
        *,
        kind: str,
        from_user: int | None,
        tag: str | None = None,
        sub_tag: str | None = None,
        message_out: str | None = None,
        attach: Any = None,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """Record a notification; re-using a TAG (per app) replaces the earlier ones."""
        if tag:
            self.notifications[:] = [
                n
                for n in self.notifications
                if not (n["tag"] == tag and n["client_id"] == client_id)
            ]
        row = {
            "id": self._mint("notify"),
            "type": kind,
            "to_user_id": int(to_user),
            "from_user_id": from_user,
            "message": message,
            "message_out": message_out,
            "tag": tag,
            "sub_tag": sub_tag,
            "attach": attach,
            "client_id": client_id,
            "created": int(self.portal.clock.now()),
        }
        self.notifications.append(row)
        return row

    def notifications_for(self, user_id: int) -> list[dict[str, Any]]:
        return [n for n in self.notifications if n["to_user_id"] == int(user_id)]
