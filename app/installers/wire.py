"""Bitrix wire names used by the installer, in one place (entity ids, prefixes, row shapes)."""

from __future__ import annotations

from typing import Any

STANDARD_ETID = {"lead": 1, "deal": 2, "contact": 3, "company": 4}
UF_ENTITY = {e: f"CRM_{e.upper()}" for e in STANDARD_ETID}
# Stages a fresh pipeline / smart process is seeded with that our specs may not use.
SEEDED_STAGES = {
    "PREPARATION",
    "PREPAYMENT_INVOICE",
    "EXECUTING",
    "FINAL_INVOICE",
    "APOLOGY",
    "CLIENT",
}


def is_seed_stage(code: str) -> bool:
    """A seeded stage code, whole or cut: a new pipeline's ids are cut to a fixed length
    (the doc's example ``C10:PREPAYMENT_INVOIC``), so ``PREPAYMENT_INVOIC`` counts too."""
    if code in SEEDED_STAGES:
        return True
    return len(code) >= 10 and any(seed.startswith(code) for seed in SEEDED_STAGES)


def status_entity(etid: int, category_id: int | None) -> str:
    """The crm.status ENTITY_ID of a stage list."""
    if etid == 1:
        return "STATUS"
    if etid == 2:
        return "DEAL_STAGE" if not category_id else f"DEAL_STAGE_{category_id}"
    return f"DYNAMIC_{etid}_STAGE_{category_id or 0}"


def stage_prefix(etid: int, category_id: int | None) -> str:
    if etid == 1 or (etid == 2 and not category_id):
        return ""
    if etid == 2:
        return f"C{category_id}:"
    return f"DT{etid}_{category_id or 0}:"


def _labels(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {str(v) for v in value.values() if v}
    return {str(value)} if value else set()


def field_row(row: dict[str, Any]) -> dict[str, Any]:
    """A user field from ``crm.*.userfield.list`` (UPPER) or ``userfieldconfig.list``
    (camel) as one neutral shape."""
    if "FIELD_NAME" in row:
        labels = set()
        for key in ("EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL"):
            labels |= _labels(row.get(key))
        return {
            "id": str(row.get("ID")),
            "entity_id": row.get("ENTITY_ID"),
            "name": row["FIELD_NAME"],
            "type": row.get("USER_TYPE_ID"),
            "xml_id": row.get("XML_ID"),
            "mandatory": row.get("MANDATORY") == "Y",
            "multiple": row.get("MULTIPLE") == "Y",
            "labels": labels,
            "options": [
                {"id": str(o.get("ID")), "value": o.get("VALUE"), "xml_id": o.get("XML_ID")}
                for o in row.get("LIST") or []
            ],
        }
    labels = set()
    for key in ("editFormLabel", "listColumnLabel", "listFilterLabel"):
        labels |= _labels(row.get(key))
    return {
        "id": str(row.get("id")),
        "entity_id": row.get("entityId"),
        "name": row.get("fieldName"),
        "type": row.get("userTypeId"),
        "xml_id": row.get("xmlId"),
        "mandatory": row.get("mandatory") == "Y",
        "multiple": row.get("multiple") == "Y",
        "labels": labels,
        "options": [
            {"id": str(o.get("id")), "value": o.get("value"), "xml_id": o.get("xmlId")}
            for o in row.get("enum") or []
        ],
    }


def camel_name(upper: str) -> str:
    """UPPER user-field name → its crm.item camelCase name (protocol §7.7)."""
    import re

    regular = (
        re.fullmatch(r"[A-Z_]+", upper)
        or re.fullmatch(r"UF_CRM_\d{1,4}_[\d_]+", upper)
        or re.fullmatch(r"UF_CRM_\d{1,4}_[A-Z_]+", upper)
    )
    if regular:
        protected = re.sub(r"(?<=\d)_(?=\d)", "\0", upper).lower()
        parts = protected.split("_")
        camel = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
        return camel.replace("\0", "_")
    if upper.startswith("UF_CRM_"):
        return "ufCrm_" + upper[len("UF_CRM_") :]
    if upper.startswith("UF_CRM"):
        return "ufCrm" + upper[len("UF_CRM") :]
    return "uf" + upper[len("UF_") :] if upper.startswith("UF_") else upper
