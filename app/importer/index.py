"""What the portal already holds, as the import's duplicate index. Pure.

Built from the mirror's contacts, companies and Objects (``run`` refreshes the mirror with a
full sync first, so "against the portal" means the portal as read just now) with the same
keys the rules use: normalised phones and e-mails and company names
(``app.objects.comms.values_of``), the INN field, and the Object dedup key
(``app.objects.keys.keys_of`` → ``app.domain.dedup.dedup_key``). Records the import creates
are added as it goes, so two rows of one sheet with the same phone make one contact.

``origin`` maps the ``originId`` the import stamps on every record it creates to the record,
which is how a run killed mid-batch recognises its own writes when it resumes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.domain.clients import company_key
from app.domain.dedup import dedup_key
from app.objects.comms import values_of
from app.objects.keys import OBJECT, keys_of

INN = "UF_CRM_MT_INN"
ORIGINATOR = "b24app.import"


def origin_fields(entity: str, origin: str) -> dict[str, str]:
    """How a created record is stamped with the import's origin id. Contacts and companies
    have ``originatorId``/``originId``; smart-process items have neither, so the Object
    carries it in ``xmlId`` (api-reference/crm/universal/crm-item-fields.md)."""
    if entity == OBJECT:
        return {"xmlId": f"{ORIGINATOR}:{origin}"}
    return {"originatorId": ORIGINATOR, "originId": origin}


def origin_of(entity: str, record: Mapping[str, Any]) -> str:
    """The origin id the import stamped on ``record`` ("" for records it did not create)."""
    if entity == OBJECT:
        mark = str(record.get("xmlId") or "")
        return mark[len(ORIGINATOR) + 1 :] if mark.startswith(ORIGINATOR + ":") else ""
    if record.get("originatorId") == ORIGINATOR:
        return str(record.get("originId") or "")
    return ""


# what a merge may need to know of an existing record (blanks are filled, nothing else)
KEPT = {
    "company": ("title", INN, "fm"),
    "contact": ("name", "lastName", "companyId", "fm"),
    OBJECT: (
        "title", "companyId", "contactId", "UF_CRM_OBJ_WIDTH", "UF_CRM_OBJ_LENGTH",
        "UF_CRM_OBJ_HEIGHT", "UF_CRM_OBJ_AREA", "UF_CRM_OBJ_SITE", "UF_CRM_OBJ_PURPOSE",
    ),
}  # fmt: skip


class PortalIndex:
    def __init__(self, naming: Any = None) -> None:
        self.naming = naming
        self.comms: dict[tuple[str, str], list[tuple[str, int]]] = {}
        self.inn: dict[str, int] = {}
        self.object_key: dict[str, int] = {}
        self.origin: dict[str, tuple[str, int]] = {}
        self.records: dict[tuple[str, int], dict[str, Any]] = {}
        # chunk label of a record being created → where the index holds it (see ``plan``)
        self.pending: dict[str, list[tuple[str, Any]]] = {}

    def add(self, entity: str, record_id: int, record: Mapping[str, Any]) -> None:
        """Index one existing record (a snapshot keyed by stable codes)."""
        rid = int(record_id)
        self.records[(entity, rid)] = {k: record.get(k) for k in KEPT.get(entity, ())}
        origin = origin_of(entity, record)
        if origin:
            self.origin.setdefault(origin, (entity, rid))
        if entity in ("contact", "company"):
            for pair in values_of(entity, record):
                holders = self.comms.setdefault(pair, [])
                if (entity, rid) not in holders:
                    holders.append((entity, rid))
        if entity == "company":
            inn = "".join(str(record.get(INN) or "").split())
            if inn:
                self.inn.setdefault(inn, rid)
        if entity == OBJECT:
            keys = keys_of(record, OBJECT, self.naming)
            if keys is not None and keys.is_complete:
                self.object_key.setdefault(dedup_key(keys), rid)

    def find(self, entity: str, kind: str, value: str) -> int | None:
        """The lowest id of ``entity`` reached by (kind, value): phone, email, company."""
        ids = [rid for e, rid in self.comms.get((kind, value), ()) if e == entity]
        known = [rid for rid in ids if isinstance(rid, int)]
        return min(known) if known else (ids[0] if ids else None)

    def learn(self, table: str, key: Any, entity: str, pending: str) -> None:
        """Hold a record being created (``pending`` = its chunk label) under ``key``."""
        if table == "comms":
            self.comms.setdefault(key, []).append((entity, pending))  # type: ignore[arg-type]
        else:
            getattr(self, table).setdefault(key, pending)
        self.pending.setdefault(pending, []).append((table, key))

    def resolve(self, created: Mapping[str, int]) -> None:
        """Replace chunk labels by the ids the portal gave, once the chunk is written."""
        for pending, rid in created.items():
            for table, key in self.pending.pop(pending, ()):
                if table == "comms":
                    self.comms[key] = [(e, rid if r == pending else r) for e, r in self.comms[key]]
                elif getattr(self, table).get(key) == pending:
                    getattr(self, table)[key] = rid

    def forget(self, labels: Any) -> None:
        """Drop records still pending under ``labels`` (their add failed)."""
        for pending in labels:
            for table, key in self.pending.pop(pending, ()):
                if table == "comms":
                    self.comms[key] = [(e, r) for e, r in self.comms[key] if r != pending]
                elif getattr(self, table).get(key) == pending:
                    del getattr(self, table)[key]

    def company(self, inn: str, name: str) -> tuple[int, str] | None:
        """An existing company by INN, then by name (legal form and quotes ignored)."""
        if inn and inn in self.inn:
            return self.inn[inn], "ИНН"
        found = self.find("company", "company", company_key(name)) if name else None
        return (found, "название") if found else None

    def contact(self, phones: tuple[str, ...], emails: tuple[str, ...]) -> tuple[int, str] | None:
        for phone in phones:
            found = self.find("contact", "phone", phone)
            if found:
                return found, f"телефон {phone}"
        for email in emails:
            found = self.find("contact", "email", email)
            if found:
                return found, f"e-mail {email}"
        return None

    def object(self, keys: Any) -> tuple[int, str] | None:
        if keys is None or not keys.is_complete:
            return None
        found = self.object_key.get(dedup_key(keys))
        return (found, "ключ объекта") if found else None
