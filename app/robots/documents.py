"""Robot documents: what ``document_id[2]`` names, and loading that record.

The portal names the record a robot runs on by a type-prefixed string (protocol §6.2):
``LEAD_123``, ``DEAL_5``, ``CONTACT_7``, ``COMPANY_7``, ``QUOTE_3``, ``SMART_INVOICE_12``
and ``DYNAMIC_147_12`` (smart process with entityTypeId 147, item 12; the class in
``document_id[1]`` is then ``…\\Document\\Dynamic``). This module is the only place those
wire forms are known; the rest of the app sees a :class:`Document`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.rules.changes import normalize
from app.rules.naming import Naming
from app.sync.fetch import CLIENT_DEALS, CONTACT_DEALS, fetch_record

# prefix → (entityTypeId, the document class the portal sends with it)
_FIXED = {
    "LEAD": (1, "CCrmDocumentLead"),
    "DEAL": (2, "CCrmDocumentDeal"),
    "CONTACT": (3, "CCrmDocumentContact"),
    "COMPANY": (4, "CCrmDocumentCompany"),
    "QUOTE": (7, "Quote"),
    "SMART_INVOICE": (31, "SmartInvoice"),
}
_ENTITY = {1: "lead", 2: "deal", 3: "contact", 4: "company"}
_FIXED_RE = re.compile(r"^(LEAD|DEAL|CONTACT|COMPANY|QUOTE|SMART_INVOICE)_(\d{1,18})$")
_DYNAMIC_RE = re.compile(r"^DYNAMIC_(\d{1,9})_(\d{1,18})$")


class DocumentError(ValueError):
    """The robot runs on something we cannot work with; ``str()`` is a user-facing text."""


@dataclass(frozen=True)
class Document:
    """A CRM record a robot runs on. ``entity`` is ``lead|deal|contact|company``, the stable
    code of an installed smart process (``metal.object``) or ``dynamic:<etid>``."""

    entity_type_id: int
    record_id: int
    wire: str  # "LEAD_123", kept for logs and the run table

    def entity(self, naming: Naming | None = None) -> str:
        if self.entity_type_id in _ENTITY:
            return _ENTITY[self.entity_type_id]
        code = naming.entity_for_type_id(self.entity_type_id) if naming is not None else None
        return code or f"dynamic:{self.entity_type_id}"


def parse_document(document_id: Sequence[Any]) -> Document:
    """``["crm", "CCrmDocumentLead", "LEAD_123"]`` → Document(1, 123). Raises DocumentError
    (Russian text with an English gloss) for non-CRM documents or malformed ids."""
    parts = [str(p) for p in (document_id or [])]
    if len(parts) != 3:
        raise DocumentError(f"document_id: ожидалось 3 части, получено {len(parts)} (bad shape)")
    module, cls, wire = parts
    if module != "crm":
        raise DocumentError(
            f"робот работает только с CRM, а не с «{module}» (only CRM documents are supported)"
        )
    fixed = _FIXED_RE.match(wire)
    if fixed:
        etid, expected_cls = _FIXED[fixed.group(1)]
        if not cls.endswith(expected_cls):
            raise DocumentError(f"document_id: {wire} не совпадает с классом {cls} (mismatch)")
        return Document(etid, int(fixed.group(2)), wire)
    dynamic = _DYNAMIC_RE.match(wire)
    if dynamic:
        if not cls.endswith("Dynamic"):
            raise DocumentError(f"document_id: {wire} не совпадает с классом {cls} (mismatch)")
        return Document(int(dynamic.group(1)), int(dynamic.group(2)), wire)
    raise DocumentError(f"неизвестный документ «{wire[:60]}» (unsupported document id)")


@dataclass(frozen=True)
class Loaded:
    """What a robot's ``load`` gathered: the record (stable codes, see
    ``app.rules.changes.normalize``), related snapshots by name, and ``extra`` for anything
    else a robot fetched (user positions, status names…)."""

    record: dict[str, Any] | None
    related: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def load_document(
    client: Any, naming: Naming, document: Document, needs: Iterable[str] = ()
) -> Loaded:
    """The document's record plus the related records named in ``needs`` (``"company"``,
    ``"contacts"``, ``"parent:<entity>"``), one batch. Raises DocumentError when the record
    does not exist, PortalError subclasses for portal failures."""
    entity = document.entity(naming)
    fetched = fetch_record(client, naming, entity, document.record_id, needs)
    if fetched.record is None:
        raise DocumentError(f"{document.wire}: запись не найдена (record not found)")
    related: dict[str, Any] = {}
    for name, value in fetched.related.items():
        rel_entity = _related_entity(name)
        if isinstance(value, list):
            related[name] = [normalize(rel_entity, v, naming) for v in value]
        else:
            related[name] = normalize(rel_entity, value, naming) if value else None
    return Loaded(normalize(entity, fetched.record, naming), related)


def _related_entity(name: str) -> str:
    if name.startswith("parent:"):
        return name.split(":", 1)[1]
    deals = {CLIENT_DEALS: "deal", CONTACT_DEALS: "deal"}
    return {"contacts": "contact", "company": "company", **deals}.get(name, name)
