"""Seeding helpers for tests and the admin surface: fast bulk insert and "incoming" leads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from b24emu.crm.schema import CONTACT, DEAL, LEAD

SOURCES = {"webform": "WEBFORM", "email": "EMAIL", "call": "CALL", "manual": None}


class SeedMixin:
    portal: Any

    def bulk_seed(self, etid: int, rows: Iterable[dict[str, Any]], user_id: int = 1) -> list[int]:
        """Insert many items fast: no events, no robots, one validation pass per row.

        ``rows`` are camelCase field dicts like :meth:`add_item` takes. 100,000 leads take a
        few seconds. Returns the new ids.
        """
        view = self.view(etid)  # type: ignore[attr-defined]
        now = int(self.portal.clock.now())
        template = self._defaults(view, user_id, now)  # type: ignore[attr-defined]
        table = self._items.setdefault(etid, {})  # type: ignore[attr-defined]
        ids = self._ids.setdefault(etid, [])  # type: ignore[attr-defined]
        next_id = self._next_item.get(etid, 1)  # type: ignore[attr-defined]
        created: list[int] = []
        for fields in rows:
            row = self._build(view, dict(template), fields, user_id, now, False, True, adding=True)  # type: ignore[attr-defined]
            row["id"] = next_id
            if "title" in view.fields and not row.get("title"):
                row["title"] = f"{view.title} #{next_id}"
            table[next_id] = row
            ids.append(next_id)  # ids only grow, so the list stays sorted
            if row.get("fm"):
                self.comms.set_item(etid, next_id, row["fm"])  # type: ignore[attr-defined]
            created.append(next_id)
            next_id += 1
        self._next_item[etid] = next_id  # type: ignore[attr-defined]
        return created

    def incoming_lead(
        self,
        channel: str,
        user_id: int = 1,
        *,
        title: str | None = None,
        name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A lead as if it came from a web form / e-mail / incoming call / by hand.

        ``channel`` is ``webform``, ``email``, ``call`` or ``manual``; it sets ``sourceId``
        (WEBFORM/EMAIL/CALL/empty) and the phone/e-mail multifields. Fires events like any add.
        In simple CRM mode (``store.mode == 2``) there are no leads: a contact and a deal are
        created instead and the deal is returned.
        """
        if channel not in SOURCES:
            raise ValueError(f"unknown channel {channel!r}; use one of {sorted(SOURCES)}")
        fm = []
        if phone:
            fm.append({"typeId": "PHONE", "valueType": "WORK", "value": phone})
        if email:
            fm.append({"typeId": "EMAIL", "valueType": "WORK", "value": email})
        fields: dict[str, Any] = {"sourceId": SOURCES[channel] or "", "fm": fm, **extra}
        if title:
            fields["title"] = title
        if name:
            fields["name"] = name
        if getattr(self, "mode", 1) == 2:
            return self._incoming_deal(fields, user_id)
        return self.add_item(LEAD, fields, user_id)  # type: ignore[attr-defined]

    def _incoming_deal(self, fields: dict[str, Any], user_id: int) -> dict[str, Any]:
        """Simple CRM (mode 2) has no leads: an inquiry becomes a contact and a deal."""
        contact_fields = {"fm": fields.pop("fm"), "sourceId": fields["sourceId"]}
        if fields.get("name"):
            contact_fields["name"] = fields.pop("name")
        contact = self.add_item(CONTACT, contact_fields, user_id)  # type: ignore[attr-defined]
        fields["contactIds"] = [contact["id"]]
        return self.add_item(DEAL, fields, user_id)  # type: ignore[attr-defined]
