"""Item writes: coercion, defaults, stage/pipeline rules, derived fields, events.

Mixed into :class:`b24emu.crm.store.CrmStore`. A write builds a complete new row first and
only then stores it, so a refused write changes nothing.
"""

from __future__ import annotations

import bisect
from typing import Any

from b24emu.crm import schema, values
from b24emu.crm import userfields as uf_values
from b24emu.crm.entity import EntityView
from b24emu.crm.errors import FieldRequiredError, NotFoundError
from b24emu.crm.schema import COMPANY, CONTACT, DEAL, LEAD

_DEFAULT_TYPE = {DEAL: "SALE", CONTACT: "CLIENT", COMPANY: "CUSTOMER"}
WEEK = 7 * 86400


class ItemsMixin:
    """Needs ``self.portal``, ``self.view()``, ``self.statuses``, ``self.categories``, ``self.comms``."""

    _items: dict[int, dict[int, dict[str, Any]]]
    _ids: dict[int, list[int]]
    _next_item: dict[int, int]

    # -- reads -------------------------------------------------------------------------
    def items(self, etid: int) -> list[dict[str, Any]]:
        """All rows of a type in id order (internal form: camel system keys, UPPER UF keys)."""
        self.view(etid)
        return list(self._items.get(etid, {}).values())

    def get_item(self, etid: int, item_id: int) -> dict[str, Any]:
        self.view(etid)
        row = self._items.get(etid, {}).get(int(item_id))
        if row is None:
            raise NotFoundError("Item not found")
        return row

    def ids_between(self, etid: int, low: int | None, high: int | None) -> list[int]:
        """Ids in ascending order with ``low < id < high`` (bisect, no scan; None = open)."""
        ids = self._ids.get(etid, [])
        start = 0 if low is None else bisect.bisect_right(ids, low)
        end = len(ids) if high is None else bisect.bisect_left(ids, high)
        return ids[start:end]

    # -- writes ------------------------------------------------------------------------
    def add_item(
        self,
        etid: int,
        fields: dict[str, Any],
        user_id: int,
        *,
        original_uf: bool = False,
        strict_multiple: bool = True,
    ) -> dict[str, Any]:
        """Create an item from camelCase fields (UF keys as camel alias or UPPER name)."""
        view = self.view(etid)
        now = int(self.portal.clock.now())  # the portal's columns keep whole seconds
        new = self._defaults(view, user_id, now)
        new = self._build(
            view, new, fields, user_id, now, original_uf, strict_multiple, adding=True
        )
        item_id = self._next_item.get(etid, 1)
        self._next_item[etid] = item_id + 1
        new["id"] = item_id
        if "title" in view.fields and not new.get("title") and etid != CONTACT:
            new["title"] = f"{view.title} #{item_id}"
        self._store(etid, new)
        self._notify(view, "ADD", new, user_id)
        if view.has_stages and new.get("stageId"):
            self.portal.stage_entered(etid, item_id, new.get("categoryId"), new["stageId"], user_id)
        return new

    def update_item(
        self,
        etid: int,
        item_id: int,
        fields: dict[str, Any],
        user_id: int,
        *,
        original_uf: bool = False,
        strict_multiple: bool = True,
    ) -> dict[str, Any]:
        view = self.view(etid)
        old = self.get_item(etid, item_id)
        now = int(self.portal.clock.now())
        new = self._build(
            view, dict(old), fields, user_id, now, original_uf, strict_multiple, adding=False
        )
        new["updatedTime"], new["updatedBy"] = now, user_id
        self._store(etid, new)
        self._notify(view, "UPDATE", new, user_id)
        if etid == DEAL and new.get("categoryId") != old.get("categoryId"):
            self.portal.emit(
                "ONCRMDEALMOVETOCATEGORY",
                {
                    "FIELDS": {
                        "ID": str(item_id),
                        "CATEGORY_ID": str(new["categoryId"]),
                        "STAGE_ID": new["stageId"],
                    }
                },
                user_id,
            )
        if view.has_stages and new.get("stageId") != old.get("stageId"):
            self.portal.stage_entered(etid, item_id, new.get("categoryId"), new["stageId"], user_id)
        return new

    def delete_item(self, etid: int, item_id: int, user_id: int) -> None:
        view = self.view(etid)
        row = self.get_item(etid, item_id)
        del self._items[etid][row["id"]]
        ids = self._ids[etid]
        del ids[bisect.bisect_left(ids, row["id"])]
        self.comms.drop_item(etid, row["id"])
        self._notify(view, "DELETE", row, user_id)

    # -- internals ---------------------------------------------------------------------
    def _store(self, etid: int, row: dict[str, Any]) -> None:
        table = self._items.setdefault(etid, {})
        if row["id"] not in table:
            bisect.insort(self._ids.setdefault(etid, []), row["id"])
        table[row["id"]] = row
        self.comms.set_item(etid, row["id"], row.get("fm") or [])

    def _notify(self, view: EntityView, action: str, row: dict[str, Any], user_id: int) -> None:
        if view.is_dynamic:
            data = {"FIELDS": {"ID": str(row["id"]), "ENTITY_TYPE_ID": str(view.etid)}}
            # One event only: the core delivers it to ONCRMDYNAMICITEM{action}_{ETID} bindings too.
            self.portal.emit(f"ONCRMDYNAMICITEM{action}", data, user_id)
        else:
            self.portal.emit(
                f"ONCRM{view.name}{action}", {"FIELDS": {"ID": str(row["id"])}}, user_id
            )

    def _defaults(self, view: EntityView, user_id: int, now: float) -> dict[str, Any]:
        row: dict[str, Any] = {
            name: ([] if f.multiple else None) for name, f in view.fields.items()
        }
        for upper, rec in view.ufs.items():
            row[upper] = [] if rec["multiple"] == "Y" else None
        row.update(
            createdTime=now,
            updatedTime=now,
            createdBy=user_id,
            updatedBy=user_id,
            assignedById=user_id,
            opened="Y",
            lastActivityBy=user_id,
            lastActivityTime=now,
        )
        presets = {
            "isManualOpportunity": "N",
            "currencyId": self.default_currency,
            "opportunity": 0.0,
            "taxValue": 0.0,
            "isReturnCustomer": "N",
            "isNew": "N",
            "isRecurring": "N",
            "isRepeatedApproach": "N",
            "closed": "N",
            "export": "Y",
            "isMyCompany": "N",
            "revenue": 0.0,
            "hasPhone": "N",
            "hasEmail": "N",
            "hasImol": "N",
            "industry": "IT",
            "employees": "EMPLOYEES_1",
            "typeId": _DEFAULT_TYPE.get(view.etid),
        }
        for name, value in presets.items():
            if name in view.fields:
                row[name] = value
        if "sourceId" in view.fields:
            row["sourceId"] = self.statuses.list_of("SOURCE")[0]["STATUS_ID"]
        if "begindate" in view.fields:
            offset = self.portal.timezone_offset
            from b24emu.crm.dates import day_of

            row["begindate"], row["closedate"] = day_of(now, offset), day_of(now + WEEK, offset)
        if view.has_fm:
            row["fm"] = []
        return row

    def _build(
        self,
        view: EntityView,
        new: dict[str, Any],
        fields: dict[str, Any],
        user_id: int,
        now: float,
        original_uf: bool,
        strict: bool,
        *,
        adding: bool,
    ) -> dict[str, Any]:
        offset = self.portal.timezone_offset
        stage_before = None if adding else new.get("stageId")
        given: set[str] = set()
        for key, value in (fields or {}).items():
            if key == "fm":
                if view.has_fm:
                    new["fm"] = values.apply_fm(
                        new.get("fm") or [], values.fm_ops(value), self._mint_fm_id
                    )
                continue
            f = view.fields.get(key)
            if f is not None:
                if not f.readonly:
                    new[key] = values.coerce(f, value, offset, strict_multiple=strict)
                    given.add(key)
                continue
            upper = view.uf_key(key, original_uf)
            if upper is not None:
                new[upper] = uf_values.coerce(
                    view.ufs[upper], value, key, offset, strict_multiple=strict
                )
                given.add(upper)
        for upper, rec in view.ufs.items():
            if (
                rec["mandatory"] == "Y"
                and (adding or upper in given)
                and new.get(upper) in (None, [], "")
            ):
                raise FieldRequiredError(upper if original_uf else view.uf_camel[upper])
        self._pipeline(view, new, given, user_id, now, stage_before)
        self._derive(view, new, given)
        if view.has_stages and (adding or new.get("stageId") != stage_before):
            self._check_stage_required(view, new, original_uf)
        # Rows are stored sparse (no None / empty-list values): 100,000 leads stay small.
        return {
            k: v for k, v in new.items() if v is not None and not (isinstance(v, list) and not v)
        }

    def _derive(self, view: EntityView, new: dict[str, Any], given: set[str]) -> None:
        if "contactIds" in given:
            new["contactId"] = new["contactIds"][0] if new["contactIds"] else None
        elif "contactId" in given and "contactIds" in view.fields:
            rest = [c for c in new.get("contactIds") or [] if c != new["contactId"]]
            new["contactIds"] = ([new["contactId"]] if new["contactId"] else []) + rest
        if "companyIds" in given:
            new["companyId"] = new["companyIds"][0] if new["companyIds"] else None
        if view.etid == LEAD:
            new["isReturnCustomer"] = "Y" if new.get("companyId") or new.get("contactId") else "N"
        if view.has_fm:
            fm = new.get("fm") or []
            first = {
                t: next((v["value"] for v in fm if v["typeId"] == t), None)
                for t in ("PHONE", "EMAIL")
            }
            new["phone"], new["email"] = first["PHONE"], first["EMAIL"]
            new["hasPhone"] = "Y" if first["PHONE"] else "N"
            new["hasEmail"] = "Y" if first["EMAIL"] else "N"
            new["hasImol"] = (
                "Y" if any(v["typeId"] == "IM" and v["valueType"] == "IMOL" for v in fm) else "N"
            )

    def _mint_fm_id(self) -> int:
        self._fm_next += 1
        return self._fm_next - 1


__all__ = ["ItemsMixin", "schema"]
