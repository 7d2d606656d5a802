"""``CrmStore``: everything CRM of one portal (see ``b24emu/crm/__init__.py`` for the API)."""

from __future__ import annotations

from typing import Any

from b24emu.crm import schema
from b24emu.crm.categories import Categories
from b24emu.crm.dedup import CommIndex
from b24emu.crm.entity import EntityView, build_view
from b24emu.crm.errors import CrmError, NotFoundError
from b24emu.crm.items import ItemsMixin
from b24emu.crm.records import RecordsMixin
from b24emu.crm.render import field_value, render_item
from b24emu.crm.seed import SeedMixin
from b24emu.crm.stages import StagesMixin
from b24emu.crm.statuses import Statuses, entity_id_for
from b24emu.crm.types import SmartTypes
from b24emu.crm.userfields import UserFields
from b24emu.crm.work import WorkMixin

INVOICE_FLAGS = (
    "isCategoriesEnabled",
    "isStagesEnabled",
    "isBeginCloseDatesEnabled",
    "isClientEnabled",
    "isLinkWithProductsEnabled",
    "isMycompanyEnabled",
    "isSourceEnabled",
    "isObserversEnabled",
)


class CrmStore(ItemsMixin, StagesMixin, RecordsMixin, WorkMixin, SeedMixin):
    """In-memory CRM of ``portal``; attaches itself as ``portal.crm``."""

    def __init__(self, portal: Any) -> None:
        self.portal = portal
        portal.crm = self
        self.statuses = Statuses()
        self.categories = Categories()
        self.types = SmartTypes()
        self.userfields = UserFields()
        self.comms = CommIndex()
        self.mode = 1  # crm.settings.mode.get: 1 classic, 2 simple
        self.default_currency = "USD"
        self._items = {etid: {} for etid in schema.CLASSIC}
        self._ids = {etid: [] for etid in schema.CLASSIC}
        self._next_item = {etid: 1 for etid in schema.CLASSIC}
        self._fm_next = 1
        self._views: dict[int, EntityView] = {}
        self._invoice: dict[str, Any] | None = None
        self.stage_requirements: list[dict[str, Any]] = []  # see require_on_stage
        self.init_records()

    # -- entity types ------------------------------------------------------------------
    def view(self, etid: int) -> EntityView:
        """The current shape of an entity type, or NOT_FOUND "Smart process not found"."""
        etid = int(etid)
        cached = self._views.get(etid)
        if cached is not None:
            return cached
        smart = None
        if etid == schema.SMART_INVOICE:
            smart = self._invoice_type()
        elif etid not in schema.CLASSIC:
            smart = self.types.by_etid(etid)
            if smart is None:
                raise NotFoundError("Smart process not found")
        if smart is None:
            uf_entity = f"CRM_{schema.TYPE_NAMES[etid]}"
        else:
            uf_entity = smart.get("ufEntityId", f"CRM_{smart['id']}")
        view = build_view(etid, smart, self._parents_of(etid), self.userfields.of_entity(uf_entity))
        self._views[etid] = view
        return view

    def _invoice_type(self) -> dict[str, Any]:
        """New invoices (ETID 31) behave like a built-in smart process; their pipeline is made
        on first use so that a fresh portal's first deal pipeline still gets id 1."""
        if getattr(self, "_invoice", None) is None:
            flags = dict.fromkeys(INVOICE_FLAGS, "Y")
            self._invoice = {
                "id": 0,
                "title": "Invoice",
                "typeName": "SMART_INVOICE",
                "ufEntityId": "CRM_SMART_INVOICE",
                **flags,
            }
            self._items[schema.SMART_INVOICE], self._ids[schema.SMART_INVOICE] = {}, []
            self._next_item[schema.SMART_INVOICE] = 1
            cat = self.categories.add(schema.SMART_INVOICE, "General", 500, True)
            self.statuses.seed_pipeline(schema.SMART_INVOICE, cat["id"])
        return self._invoice

    def invalidate(self) -> None:
        """Forget cached views after types or user fields change."""
        self._views.clear()

    def _parents_of(self, etid: int) -> list[int]:
        parents: list[int] = []
        for row in self.types.by_id.values():
            if row["entityTypeId"] == etid:
                parents += [
                    r["entityTypeId"]
                    for r in self.types.parents(row)
                    if r["entityTypeId"] not in (3, 4) or row["isClientEnabled"] != "Y"
                ]
            if any(r["entityTypeId"] == etid for r in row["relations"]["child"]):
                parents.append(row["entityTypeId"])
        return sorted(set(parents))

    def uf_entity_etid(self, entity_id: str) -> int | None:
        """``CRM_LEAD`` → 1, ``CRM_7`` → ETID of the type with id 7, else None."""
        name = entity_id[len("CRM_") :] if entity_id.startswith("CRM_") else ""
        for etid, type_name in schema.TYPE_NAMES.items():
            if (etid in schema.CLASSIC or etid == schema.SMART_INVOICE) and type_name == name:
                return etid
        if name.isdigit() and int(name) in self.types.by_id:
            return self.types.by_id[int(name)]["entityTypeId"]
        return None

    # -- smart-process types -----------------------------------------------------------
    def add_type(self, fields: dict[str, Any], user_id: int) -> dict[str, Any]:
        row = self.types.add(fields, user_id, int(self.portal.clock.now()))
        etid = row["entityTypeId"]
        self._items[etid], self._ids[etid], self._next_item[etid] = {}, [], 1
        cat = self.categories.add(etid, "General", 500, True)
        self.statuses.seed_pipeline(etid, cat["id"])
        self.invalidate()
        self.portal.emit("ONCRMTYPEADD", {"FIELDS": {"ID": str(row["id"])}}, user_id)
        return row

    def update_type(self, type_id: int, fields: dict[str, Any], user_id: int) -> dict[str, Any]:
        row = self.types.update(type_id, fields, user_id, int(self.portal.clock.now()))
        self.invalidate()
        self.portal.emit("ONCRMTYPEUPDATE", {"FIELDS": {"ID": str(row["id"])}}, user_id)
        return row

    def delete_type(self, type_id: int, user_id: int) -> None:
        row = self.types.get(type_id)
        etid = row["entityTypeId"]
        if self._items.get(etid):
            raise CrmError("BX_ERROR", "You cannot delete an entity type that has elements")
        self.types.delete(type_id)
        for cid in self.categories.drop_type(etid):
            self.statuses.drop_entity(entity_id_for(etid, cid))
        for rec in self.userfields.of_entity(f"CRM_{type_id}"):
            self.userfields.delete(rec["id"])
        self._items.pop(etid, None)
        self._ids.pop(etid, None)
        self.invalidate()
        self.portal.emit("ONCRMTYPEDELETE", {"FIELDS": {"ID": str(type_id)}}, user_id)

    # -- pipelines ---------------------------------------------------------------------
    def check_category_type(self, etid: int) -> None:
        if int(etid) == schema.SMART_INVOICE:
            self._invoice_type()
        known = {row["entityTypeId"] for row in self.types.by_id.values()}
        self.categories.check_supported(int(etid), known)

    def add_category(self, etid: int, fields: dict[str, Any]) -> dict[str, Any]:
        self.check_category_type(etid)
        smart = self.types.by_etid(etid)
        if smart is not None and smart["isCategoriesEnabled"] != "Y":
            raise CrmError("ADDING_DISABLED", "Pipelines are disabled for this smart process")
        is_default = str(fields.get("isDefault", "N")).upper() == "Y"
        row = self.categories.add(
            etid, fields.get("name", ""), int(fields.get("sort") or 500), is_default
        )
        if etid == schema.DEAL or smart is not None:
            self.statuses.seed_pipeline(etid, row["id"])
        return row

    def delete_category(self, etid: int, cid: int) -> None:
        self.check_category_type(etid)
        used = any(item.get("categoryId") == cid for item in self._items.get(etid, {}).values())
        self.categories.delete(etid, cid, used)
        self.statuses.drop_entity(entity_id_for(etid, cid))

    # -- user fields -------------------------------------------------------------------
    def add_userfield(self, entity_id: str, data: dict[str, Any]) -> dict[str, Any]:
        if self.uf_entity_etid(entity_id) is None:
            raise CrmError("", "You cannot create custom fields")
        rec = self.userfields.add(entity_id, data)
        self.invalidate()
        return rec

    def update_userfield(self, field_id: int, data: dict[str, Any]) -> dict[str, Any]:
        rec = self.userfields.by_id[field_id]
        self.userfields.update(rec, data)
        self.invalidate()
        return rec

    def delete_userfield(self, field_id: int) -> None:
        rec = self.userfields.delete(field_id)
        etid = self.uf_entity_etid(rec["entityId"])
        for row in self._items.get(etid or -1, {}).values():
            row.pop(rec["fieldName"], None)
        self.invalidate()

    def document_field(self, etid: int, item_id: int, name: str) -> Any:
        """A field of an item as robots/templates see it (``{=Document:TITLE}``): legacy
        typing, looked up by UPPER name (``TITLE``, ``ASSIGNED_BY_ID``, ``UF_CRM_X``) or camel."""
        try:
            view, row = self.view(etid), self.get_item(etid, item_id)
        except CrmError:
            return None
        return field_value(view, row, name, self.portal.timezone_offset)

    def api_item(self, etid: int, row: dict[str, Any]) -> dict[str, Any]:
        """A stored row printed exactly as ``crm.item.get`` would (for the admin surface)."""
        return render_item(self.view(etid), row, self.portal.timezone_offset)

    def stage_in_use(self, etid: int, stage_id: str) -> bool:
        return any(item.get("stageId") == stage_id for item in self._items.get(etid, {}).values())
