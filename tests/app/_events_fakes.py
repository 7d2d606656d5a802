"""A small in-memory portal speaking the gateway's client interface (``batch``/``call``),
for fast tests of the rules/sync code. End-to-end tests use the real emulator instead."""

from __future__ import annotations

import re

from app.portal.errors import NotFound
from tests.shared_docs import SHARED_PAYLOADS

PAYLOADS = SHARED_PAYLOADS


class FakePortal:
    def __init__(self):
        self.items: dict[tuple[int, int], dict] = {}
        self.batches: list[dict] = []
        self.calls: list[tuple[str, dict]] = []
        self.notes: list[tuple] = []
        self.note_tags: list[str | None] = []
        self.chat: list[tuple] = []
        self.next_id = 100
        self.fail_methods: set[str] = set()
        self.offline: list[dict] = []
        self.clock = 0

    # -- gateway interface -------------------------------------------------------------
    def batch(self, cmd, halt=False):
        self.batches.append(cmd)
        results, errors = {}, {}
        for label, (method, params) in cmd.items():
            params = self._subst(params, results)
            if method in self.fail_methods:
                errors[label] = {"error": "ACCESS_DENIED", "error_description": "no"}
                continue
            try:
                results[label] = self._dispatch(method, params)
            except NotFound as exc:
                errors[label] = {"error": exc.code, "error_description": exc.description}
        return {"result": results, "result_error": errors}

    def call(self, method, params=None):
        self.calls.append((method, params or {}))
        return self._dispatch(method, params or {})

    # -- helpers -------------------------------------------------------------------------
    def _dispatch(self, method, params):
        return getattr(self, method.replace(".", "_"))(params)

    def _subst(self, value, results):
        if isinstance(value, dict):
            return {k: self._subst(v, results) for k, v in value.items()}
        if isinstance(value, list):
            return [self._subst(v, results) for v in value]
        if isinstance(value, str) and value.startswith("$result["):
            parts = re.findall(r"\[([^\]]+)\]", value)
            out = results.get(parts[0])
            for p in parts[1:]:
                out = out.get(p) if isinstance(out, dict) else None
            return out
        return value

    def _stamp(self):
        self.clock += 1
        return f"2026-11-22T10:{self.clock // 60:02d}:{self.clock % 60:02d}+03:00"

    def add(self, etid, **fields):
        self.next_id += 1
        item = {
            "id": self.next_id,
            "stageId": "NEW",
            "assignedById": 1,
            **fields,
            "updatedTime": self._stamp(),
        }
        self.items[(etid, self.next_id)] = item
        return item

    # -- methods -------------------------------------------------------------------------
    def crm_item_get(self, p):
        key = (int(p["entityTypeId"]), int(p["id"] or 0))
        if key not in self.items:
            raise NotFound("NOT_FOUND", "Item not found")
        return {"item": dict(self.items[key])}

    def crm_item_add(self, p):
        return {"item": dict(self.add(int(p["entityTypeId"]), **p["fields"]))}

    def crm_item_update(self, p):
        item = self.items[(int(p["entityTypeId"]), int(p["id"]))]
        moved = "stageId" in p["fields"] and p["fields"]["stageId"] != item.get("stageId")
        item.update(p["fields"], updatedTime=self._stamp())
        if moved:
            item["movedTime"] = item["updatedTime"]
        return {"item": dict(item)}

    def crm_item_delete(self, p):
        self.items.pop((int(p["entityTypeId"]), int(p["id"])), None)
        return []

    def crm_item_list(self, p):
        etid = int(p["entityTypeId"])
        flt = p.get("filter", {})
        rows = sorted((v for (e, _), v in self.items.items() if e == etid), key=lambda r: r["id"])
        rows = [r for r in rows if r["id"] > int(flt.get(">id", 0))]
        if ">=updatedTime" in flt:
            rows = [r for r in rows if r["updatedTime"] >= flt[">=updatedTime"]]
        plain = {k: v for k, v in flt.items() if k[:1].isalpha()}  # equality, e.g. originId
        rows = [r for r in rows if all(r.get(k) == v for k, v in plain.items())]
        return {"items": [dict(r) for r in rows[:50]]}

    def iter_list(self, method, params, *, id_field="ID", items_key=None, batch_pages=1, **_):
        etid = int(params["entityTypeId"])
        flt = params.get("filter") or {}
        last = int(flt.get(">" + id_field, 0))
        rows = sorted((v for (e, _), v in self.items.items() if e == etid), key=lambda r: r["id"])
        rows = [r for r in rows if r["id"] > last]
        if ">=updatedTime" in flt:
            rows = [r for r in rows if r["updatedTime"] >= flt[">=updatedTime"]]
        self.calls.append((method, params))
        return iter([dict(r) for r in rows])

    def im_notify_system_add(self, p):
        self.notes.append((p["USER_ID"], p["MESSAGE"]))
        self.note_tags.append(p.get("TAG"))
        return len(self.notes)

    def im_message_add(self, p):
        self.chat.append((p["DIALOG_ID"], p["MESSAGE"]))
        return len(self.chat)

    def tasks_task_add(self, p):
        self.next_id += 1
        return {"task": {"id": str(self.next_id), "title": p["fields"]["TITLE"]}}

    def task_checklistitem_add(self, p):
        self.notes.append(("checklist", p["TASKID"], p["FIELDS"]["TITLE"]))
        return 1

    def event_offline_get(self, p):
        rows = [r for r in self.offline if not r.get("_pid")][: int(p.get("limit", 50))]
        for r in rows:
            r["_pid"] = "P1"
        return {"process_id": "P1" if rows else None, "events": [dict(r) for r in rows]}

    def event_offline_error(self, p):
        for r in self.offline:
            if r["MESSAGE_ID"] in p["message_id"]:
                r["_error"] = True
                r["_pid"] = "ERR"
        return True

    def event_offline_clear(self, p):
        self.offline = [r for r in self.offline if r.get("_pid") != p["process_id"]]
        return True


def gateway_client(emulator, redis_conn, member_id="member-emu", **limits):
    """The real gateway client over an incoming webhook of ``emulator``."""
    from app.portal import MemoryTokenStore, client_from_parts
    from app.store.installations import Credentials

    creds = Credentials(
        member_id=member_id,
        domain=emulator.domain,
        client_endpoint=None,
        server_endpoint=None,
        auth_mode="webhook",
        webhook_url=emulator.webhook_url(),
    )
    return client_from_parts(MemoryTokenStore(creds), member_id, redis_conn, **limits)


def emu_requests(emulator) -> int:
    return emulator.admin.get("requests", limit=1)["total_http"]
