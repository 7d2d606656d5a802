"""Stage and reference lists (``crm.status.*``): ENTITY_ID families, prefixes, semantics.

``STATUS`` = lead stages, ``DEAL_STAGE`` / ``DEAL_STAGE_{cat}`` = deal pipelines (prefix
``C{cat}:``), ``DYNAMIC_{ETID}_STAGE_{cat}`` = smart-process pipelines (prefix
``DT{ETID}_{cat}:``), plus reference lists (``SOURCE``, ``DEAL_TYPE``, ...).
Rows are stored with native types and printed with strings by the method layer.
"""

from __future__ import annotations

import re
from typing import Any

from b24emu.crm.schema import DEAL, LEAD, SMART_INVOICE

# The portal colours in-progress stages along this palette, in order.
PROCESS_COLORS = ("#39A8EF", "#2FC6F6", "#55D0E0", "#47E4C2", "#FFA900")
COLORS = {"process": "#39A8EF", "success": "#7BD500", "failure": "#FF5752", "apology": "#FF5752"}
# (code, name, sort, extra semantics, system)
# A fresh portal's lists as the docs show them: names of NEW/CONVERTED/JUNK from
# tutorials/crm/how-to-get-lists/how-to-get-stages-with-semantics.md; deal stages from
# api-reference/crm/status/crm-status-list.md. The docs show every intermediate default deal
# stage with SYSTEM=N and only the ends as system; lead IN_PROCESS/PROCESSED follow that
# pattern (the docs never list them).
LEAD_STAGES = [
    ("NEW", "Not processed", 10, "process", True),
    ("IN_PROCESS", "In progress", 20, "process", False),
    ("PROCESSED", "Processed", 30, "process", False),
    ("CONVERTED", "Converted", 40, "success", True),
    ("JUNK", "Low-quality lead", 50, "failure", True),
]
DEAL_STAGES = [
    ("NEW", "New", 10, "process", True),
    ("PREPARATION", "Document preparation", 20, "process", False),
    ("PREPAYMENT_INVOICE", "Prepayment invoice", 30, "process", False),
    ("EXECUTING", "In progress", 40, "process", False),
    ("FINAL_INVOICE", "Final invoice", 50, "process", False),
    ("WON", "Deal successful", 60, "success", True),
    ("LOSE", "Deal failed", 70, "failure", True),
    ("APOLOGY", "Failure reason analysis", 80, "apology", False),
]
# Seeded ids of a new pipeline are cut to this length: the doc's DEAL_STAGE_10 example
# has "C10:PREPAYMENT_INVOIC" (api-reference/crm/status/crm-status-list.md's sibling
# tutorials/crm/how-to-get-lists/how-to-get-elements-by-stage-filter.md).
SEEDED_ID_LENGTH = 21
SPA_STAGES = [
    ("NEW", "New", 10, "process", True),
    ("PREPARATION", "Preparation", 20, "process", False),
    ("CLIENT", "Waiting for client", 30, "process", False),
    ("SUCCESS", "Success", 40, "success", True),
    ("FAIL", "Fail", 50, "failure", True),
]
INVOICE_STAGES = [
    ("N", "New", 10, "process", True),
    ("S", "Sent to client", 20, "process", False),
    ("P", "Paid", 30, "success", True),
    ("D", "Declined", 40, "failure", True),
]
REFERENCES = {
    "SOURCE": [
        "CALL",
        "EMAIL",
        "WEB",
        "ADVERTISING",
        "PARTNER",
        "RECOMMENDATION",
        "TRADE_SHOW",
        "WEBFORM",
        "CALLBACK",
        "RC_GENERATOR",
        "STORE",
        "OTHER",
    ],
    "CONTACT_TYPE": ["CLIENT", "SUPPLIER", "PARTNER", "OTHER"],
    "COMPANY_TYPE": ["CUSTOMER", "SUPPLIER", "COMPETITOR", "PARTNER", "OTHER"],
    "DEAL_TYPE": ["SALE", "COMPLEX", "GOODS", "SERVICES", "SERVICE"],
    "INDUSTRY": [
        "IT",
        "TELECOM",
        "MANUFACTURING",
        "BANKING",
        "CONSULTING",
        "FINANCE",
        "GOVERNMENT",
        "DELIVERY",
        "ENTERTAINMENT",
        "NOTPROFIT",
        "OTHER",
    ],
    "EMPLOYEES": ["EMPLOYEES_1", "EMPLOYEES_2", "EMPLOYEES_3", "EMPLOYEES_4"],
    "HONORIFIC": ["HNR_EN_1", "HNR_EN_2", "HNR_EN_3", "HNR_EN_4"],
}
# Longest STATUS_ID per list (protocol doc §7.2); prefixed stage ids count whole.
STATUS_ID_LIMITS = {"STATUS": 21, "DEAL_STAGE": 22, "QUOTE_STATUS": 22}
_SEMANTIC_CHAR = {"success": "S", "failure": "F", "apology": "F", "process": None}
_STAGE_ENTITY = re.compile(
    r"^(STATUS|QUOTE_STATUS|DEAL_STAGE(_\d+)?|DYNAMIC_\d+_STAGE_\d+|SMART_(INVOICE|DOCUMENT)_STAGE_\d+)$"
)


class StatusError(Exception):
    """A refused status change; ``code`` is the envelope's ``error`` (often empty)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def entity_id_for(etid: int, category_id: int | None) -> str:
    if etid == LEAD:
        return "STATUS"
    if etid == DEAL:
        return "DEAL_STAGE" if not category_id else f"DEAL_STAGE_{category_id}"
    if etid == SMART_INVOICE:
        return f"SMART_INVOICE_STAGE_{category_id}"
    return f"DYNAMIC_{etid}_STAGE_{category_id}"


def prefix_for(etid: int, category_id: int | None) -> str:
    """Stage-id prefix including the colon (``""`` for leads and the default deal pipeline)."""
    if etid == LEAD or (etid == DEAL and not category_id):
        return ""
    if etid == DEAL:
        return f"C{category_id}:"
    return f"DT{etid}_{category_id}:"


def is_stage_list(entity_id: str) -> bool:
    return bool(_STAGE_ENTITY.match(entity_id))


class Statuses:
    """All ``crm.status`` rows of a portal, keyed by their numeric ``ID``."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, Any]] = {}
        self._next_id = 1
        self._by_entity: dict[str, list[dict[str, Any]]] = {}
        self.seed_pipeline(LEAD, None)
        self.seed_pipeline(DEAL, 0)
        for entity_id, codes in REFERENCES.items():
            for pos, code in enumerate(codes):
                name = code.replace("_", " ").title()
                self._insert(entity_id, code, name, (pos + 1) * 10, None, True, None, None)

    def _insert(
        self,
        entity_id: str,
        status_id: str,
        name: str,
        sort: int,
        category_id: int | None,
        system: bool,
        semantics: str | None,
        extra: str | None,
        color: str | None = None,
    ) -> dict[str, Any]:
        row = {
            "ID": self._next_id,
            "ENTITY_ID": entity_id,
            "STATUS_ID": status_id,
            "NAME": name,
            "NAME_INIT": name if system else "",
            "SORT": sort,
            "SYSTEM": "Y" if system else "N",
            "CATEGORY_ID": category_id,
            "COLOR": color or (COLORS.get(extra or "") if extra else None),
            "SEMANTICS": semantics,
            "EXTRA_SEMANTICS": extra,
        }
        self._next_id += 1
        self.rows[row["ID"]] = row
        self._by_entity.setdefault(entity_id, []).append(row)
        return row

    def seed_pipeline(self, etid: int, category_id: int | None) -> None:
        """Default stages of a new pipeline (lead list, deal pipeline or smart-process one)."""
        templates = {LEAD: LEAD_STAGES, DEAL: DEAL_STAGES, SMART_INVOICE: INVOICE_STAGES}
        template = templates.get(etid, SPA_STAGES)
        entity_id = entity_id_for(etid, category_id)
        prefix = prefix_for(etid, category_id)
        cat = None if etid == LEAD else category_id
        for pos, (code, name, sort, extra, system) in enumerate(template):
            color = PROCESS_COLORS[pos % len(PROCESS_COLORS)] if extra == "process" else None
            semantic = _SEMANTIC_CHAR[extra]
            status_id = (prefix + code)[:SEEDED_ID_LENGTH] if prefix else code
            self._insert(entity_id, status_id, name, sort, cat, system, semantic, extra, color)

    def drop_entity(self, entity_id: str) -> None:
        for row in self._by_entity.pop(entity_id, []):
            self.rows.pop(row["ID"], None)

    def list_of(self, entity_id: str) -> list[dict[str, Any]]:
        """Rows of one list in display order (SORT, then ID)."""
        return sorted(self._by_entity.get(entity_id, []), key=lambda r: (r["SORT"], r["ID"]))

    def stage(self, etid: int, category_id: int | None, stage_id: str) -> dict[str, Any] | None:
        for row in self._by_entity.get(entity_id_for(etid, category_id), []):
            if row["STATUS_ID"] == stage_id:
                return row
        return None

    def first_stage(self, etid: int, category_id: int | None) -> str | None:
        rows = self.list_of(entity_id_for(etid, category_id))
        return rows[0]["STATUS_ID"] if rows else None

    def semantic_id(self, row: dict[str, Any] | None) -> str:
        """``P`` in progress, ``S`` success, ``F`` failure (``stageSemanticId``)."""
        return (row or {}).get("SEMANTICS") or "P"

    def find(self, entity_id: str, status_id: str) -> dict[str, Any] | None:
        for row in self._by_entity.get(entity_id, []):
            if row["STATUS_ID"] == status_id:
                return row
        return None

    def add(
        self,
        entity_id: str,
        status_id: str,
        name: str,
        sort: int,
        color: str | None,
        semantics: str | None,
        category_id: int | None,
        prefix: str,
    ) -> dict[str, Any]:
        """Validate and insert a custom row (``SYSTEM=N``); stage prefixes are auto-added."""
        if prefix and not status_id.startswith(prefix):
            status_id = prefix + status_id
        if not re.match(r"^[A-Za-z0-9_:\-]+$", status_id):
            raise StatusError("", "The field STATUS_ID contains invalid characters.")
        if len(status_id) > STATUS_ID_LIMITS.get(entity_id, 50):
            raise StatusError("", "The field STATUS_ID is too long.")
        if self.find(entity_id, status_id):
            raise StatusError("ERROR_CORE", "The specified status ID already exists.")
        semantics = semantics or None
        extra = (
            {"S": "success", "F": "failure"}.get(semantics or "", "process")
            if is_stage_list(entity_id)
            else None
        )
        if is_stage_list(entity_id) and semantics is None:
            finals = [
                r["SORT"] for r in self._by_entity.get(entity_id, []) if r["SEMANTICS"] == "S"
            ]
            if finals and sort > min(finals):
                raise StatusError(
                    "", "Cannot create more stages after the final stage. Change the sort order."
                )
        return self._insert(
            entity_id, status_id, name, sort, category_id, False, semantics, extra, color
        )

    def update(self, row_id: int, fields: dict[str, Any]) -> None:
        row = self.rows[row_id]
        for key in ("NAME", "COLOR"):
            if key in fields and fields[key] is not None:
                row[key] = str(fields[key])
        if "SORT" in fields:
            row["SORT"] = int(fields["SORT"])

    def delete(self, row_id: int, forced: bool) -> None:
        row = self.rows[row_id]
        if row["SYSTEM"] == "Y" and not forced:
            raise StatusError(
                "",
                'CRM System Status can be deleted only if parameter FORCED is specified and equal to "Y".',
            )
        self.rows.pop(row_id)
        self._by_entity[row["ENTITY_ID"]].remove(row)

    def entity_ids(self) -> list[str]:
        return list(self._by_entity)
