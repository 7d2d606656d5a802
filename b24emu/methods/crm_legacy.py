"""Legacy ``crm.{lead,deal,contact,company}.*``: UPPER_CASE, numbers as strings, ``""`` for
empty dates, multifields ``PHONE``/``EMAIL``/``WEB``/``IM``/``LINK`` with ``ID``/``DELETE``
semantics, ``error: ""`` envelopes. Deal ``CATEGORY_ID`` is ignored by ``crm.deal.update``."""

from __future__ import annotations

from typing import Any

from b24emu.crm import values
from b24emu.crm.errors import CrmError
from b24emu.crm.query import query
from b24emu.crm.render import render_legacy
from b24emu.crm.schema import COMPANY, CONTACT, DEAL, LEAD, MULTIFIELD_TYPES
from b24emu.methods.crm_common import crm, field_description, label_of, legacy_error, list_param
from b24emu.registry import Call, ListPage, RestError, method

# Legacy field descriptions use the older type names (Y/N flags are "char").
LEGACY_TYPES = {"boolean": "char", "text": "string"}
ENTITIES = {"lead": LEAD, "deal": DEAL, "contact": CONTACT, "company": COMPANY}


def _id(call: Call) -> int:
    raw = call.param("id")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if value <= 0:
        raise RestError("", "ID is not defined or invalid.")
    return value


def to_camel(view, fields: dict[str, Any], *, updating: bool) -> dict[str, Any]:
    """Legacy input → store input (system fields camelCase, UF keys kept UPPER, fm rows)."""
    by_upper = {f.upper_name: f.camel for f in view.fields.values() if f.kind != "fm"}
    out: dict[str, Any] = {}
    for key, value in fields.items():
        upper = str(key).upper()
        if upper in MULTIFIELD_TYPES:
            continue
        if view.etid == DEAL and updating and upper == "CATEGORY_ID":
            continue  # immutable through crm.deal.update (use crm.item.update)
        if upper in by_upper:
            out[by_upper[upper]] = value
        elif upper.startswith("UF_"):
            out[upper] = value
    fm = values.legacy_fm_input({str(k).upper(): v for k, v in fields.items()})
    if fm is not None and view.has_fm:
        out["fm"] = fm
    return out


def _raise(view, exc: CrmError) -> RestError:
    f = view.fields.get(exc.field or "")
    return legacy_error(exc, f.upper_name if f else exc.field)


def _register(kind: str, etid: int) -> None:
    prefix = f"crm.{kind}"

    @method(f"{prefix}.add", scope="crm")
    def add(call: Call) -> int:
        view = crm(call).view(etid)
        fields = call.param("fields")
        if not isinstance(fields, dict) or not fields:
            raise RestError("", "Parameter 'fields' must be array.")
        try:
            row = crm(call).add_item(
                etid,
                to_camel(view, fields, updating=False),
                call.auth.user_id,
                original_uf=True,
                strict_multiple=False,
            )
        except CrmError as exc:
            raise _raise(view, exc) from None
        return row["id"]

    @method(f"{prefix}.update", scope="crm")
    def update(call: Call) -> bool:
        view = crm(call).view(etid)
        item_id = _id(call)
        fields = call.param("fields")
        if not isinstance(fields, dict):
            raise RestError("", "Parameter 'fields' must be array.")
        try:
            crm(call).update_item(
                etid,
                item_id,
                to_camel(view, fields, updating=True),
                call.auth.user_id,
                original_uf=True,
                strict_multiple=False,
            )
        except CrmError as exc:
            raise _raise(view, exc) from None
        return True

    @method(f"{prefix}.get", scope="crm")
    def get(call: Call) -> dict[str, Any]:
        view = crm(call).view(etid)
        try:
            row = crm(call).get_item(etid, _id(call))
        except CrmError as exc:
            raise _raise(view, exc) from None
        return render_legacy(view, row, call.portal.timezone_offset)

    @method(f"{prefix}.delete", scope="crm")
    def delete(call: Call) -> bool:
        try:
            crm(call).delete_item(etid, _id(call), call.auth.user_id)
        except CrmError as exc:
            raise legacy_error(exc) from None
        return True

    @method(f"{prefix}.list", scope="crm")
    def list_(call: Call) -> ListPage:
        view = crm(call).view(etid)
        select = [str(name) for name in list_param(call, "select")]
        page = query(
            crm(call),
            view,
            call.param("filter"),
            call.param("order"),
            call.param("start"),
            legacy=True,
        )
        page.result = [
            render_legacy(view, row, call.portal.timezone_offset, select=select)
            for row in page.result
        ]
        return page

    @method(f"{prefix}.fields", scope="crm")
    def fields(call: Call) -> dict[str, Any]:
        view = crm(call).view(etid)
        out: dict[str, Any] = {}
        for upper, f in view.by_upper.items():
            out[upper] = field_description(
                LEGACY_TYPES.get(f.kind, f.kind),
                readonly=f.readonly,
                multiple=f.multiple,
                title=upper,
                immutable=upper == "ID" or (etid == DEAL and upper == "CATEGORY_ID"),
            )
        if view.has_fm:
            for type_id in MULTIFIELD_TYPES:
                out[type_id] = field_description(
                    "crm_multifield", readonly=False, multiple=True, title=type_id
                )
        for upper, rec in view.ufs.items():
            desc = field_description(
                rec["userTypeId"],
                readonly=False,
                multiple=rec["multiple"] == "Y",
                title=upper,
                required=rec["mandatory"] == "Y",
                dynamic=True,
            )
            desc.update(
                listLabel=label_of(rec["listColumnLabel"], upper),
                formLabel=label_of(rec["editFormLabel"], upper),
                filterLabel=label_of(rec["listFilterLabel"], upper),
                settings=rec["settings"],
            )
            if rec["userTypeId"] == "enumeration":
                desc["items"] = [{"ID": str(o["id"]), "VALUE": o["value"]} for o in rec["enum"]]
            out[upper] = desc
        return out


for _kind, _etid in ENTITIES.items():
    _register(_kind, _etid)


BINDINGS = {
    # method prefix: (owner ETID, field with the bound ids, key in the rows)
    "crm.deal.contact": (DEAL, "contactIds", "CONTACT_ID"),
    "crm.lead.contact": (LEAD, "contactIds", "CONTACT_ID"),
    "crm.company.contact": (COMPANY, "contactIds", "CONTACT_ID"),
    "crm.contact.company": (CONTACT, "companyIds", "COMPANY_ID"),
}


def _register_binding(prefix: str, etid: int, field: str, key: str) -> None:
    @method(f"{prefix}.items.get", scope="crm")
    def items_get(call: Call) -> list[dict[str, Any]]:
        try:
            row = crm(call).get_item(etid, _id(call))
        except CrmError as exc:
            raise legacy_error(exc) from None
        ids = row.get(field) or []
        return [
            {
                key: bound,
                "SORT": (pos + 1) * 10,
                "ROLE_ID": 0,
                "IS_PRIMARY": "Y" if pos == 0 else "N",
            }
            for pos, bound in enumerate(ids)
        ]

    @method(f"{prefix}.items.set", scope="crm")
    def items_set(call: Call) -> bool:
        owner_id = _id(call)
        items = call.param("items") or []
        items = list(items.values()) if isinstance(items, dict) else list(items)
        try:
            rows = sorted(
                (
                    0 if str(i.get("IS_PRIMARY", "N")).upper() == "Y" else 1,
                    int(i.get("SORT") or 0),
                    int(i[key]),
                )
                for i in items
                if isinstance(i, dict) and i.get(key)
            )
            crm(call).update_item(
                etid, owner_id, {field: [bound for _, _, bound in rows]}, call.auth.user_id
            )
        except (TypeError, ValueError):
            raise RestError("", "The parameter 'items' is invalid.") from None
        except CrmError as exc:
            raise legacy_error(exc) from None
        return True

    @method(f"{prefix}.items.delete", scope="crm")
    def items_delete(call: Call) -> bool:
        try:
            crm(call).update_item(etid, _id(call), {field: []}, call.auth.user_id)
        except CrmError as exc:
            raise legacy_error(exc) from None
        return True


for _prefix, (_owner, _field, _key) in BINDINGS.items():
    _register_binding(_prefix, _owner, _field, _key)
