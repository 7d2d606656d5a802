"""What to do with each row: create its records, merge into the portal's, or skip. Pure.

A row makes up to three records: the company, the contact (linked to the company) and the
Object (linked to both, fields in metres as the Object card holds them). Each is looked up
first (:class:`~app.importer.index.PortalIndex`): the company by INN then name, the contact
by phone then e-mail, the Object by its dedup key.

* ``skip`` (default): a row with any record already on the portal is left out and reported
  with what matched — nothing on the portal changes;
* ``merge``: matched records keep every value they have; only their blank fields are filled
  from the row (new phones/e-mails are added), and the row's other records are created and
  linked to them.

Records this run created before it was killed are found by their ``originId`` and count as
created, not as duplicates: a resumed run reports the same as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.domain.clients import company_key
from app.domain.dedup import dedup_key
from app.importer.index import INN, PortalIndex, origin_fields
from app.importer.rows import Row
from app.objects.keys import OBJECT, purpose_value

MODES = ("skip", "merge")
SLOTS = {"company": "company", "contact": "contact", "object": OBJECT}
DIM_CODES = {
    "width": "UF_CRM_OBJ_WIDTH", "length": "UF_CRM_OBJ_LENGTH", "height": "UF_CRM_OBJ_HEIGHT",
    "area": "UF_CRM_OBJ_AREA", "site": "UF_CRM_OBJ_SITE", "purpose": "UF_CRM_OBJ_PURPOSE",
}  # fmt: skip

RecordId = int | str  # str: the label of a record created earlier in the same chunk


@dataclass(frozen=True)
class Part:
    """One record of a row: created (``existing`` None) or merged into ``existing``.
    ``links``: field → slot of the row whose record id goes there."""

    slot: str
    existing: RecordId | None = None
    how: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)
    links: Mapping[str, str] = field(default_factory=dict)
    recovered: bool = False  # created by this run before a restart

    @property
    def entity(self) -> str:
        return SLOTS[self.slot]


@dataclass(frozen=True)
class Step:
    number: int
    outcome: str  # created | merged | skipped
    parts: tuple[Part, ...] = ()
    detail: str = ""


def origin_id(run_id: int, number: int, slot: str) -> str:
    return f"{int(run_id)}:{int(number)}:{slot}"


_LETTER = {"company": "c", "contact": "p", "object": "o"}


def label(number: int, slot: str) -> str:
    """The batch label of a row's record: ``r12c`` company, ``r12p`` contact, ``r12o`` Object."""
    return f"r{int(number)}{_LETTER[slot]}"


def _fm(phones: tuple[str, ...], emails: tuple[str, ...], known: Any = None) -> list[dict]:
    have = {str(v.get("value")) for v in known or () if isinstance(v, Mapping)}
    out = [{"typeId": "PHONE", "valueType": "WORK", "value": p} for p in phones if p not in have]
    out += [{"typeId": "EMAIL", "valueType": "WORK", "value": e} for e in emails if e not in have]
    return out


def _person(name: str) -> dict[str, str]:
    """«Иванов Иван Иванович» → last, first, second name; anything else stays the name."""
    words = name.split()
    if len(words) == 3:
        return {"lastName": words[0], "name": words[1], "secondName": words[2]}
    return {"name": name}


def new_fields(row: Row, slot: str, naming: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """(fields, links) of the record ``slot`` of ``row`` when it is created."""
    who = {"assignedById": row.manager_id}
    if slot == "company":
        fields: dict[str, Any] = {"title": row.company, **who}
        if row.inn:
            fields[INN] = row.inn
        if not row.contact:  # a company-only row: its phones and e-mails are the company's
            fields["fm"] = _fm(row.phones, row.emails)
        return {k: v for k, v in fields.items() if v not in ("", [])}, {}
    if slot == "contact":
        fields = {**_person(row.contact), **who, "fm": _fm(row.phones, row.emails)}
        return {k: v for k, v in fields.items() if v not in ("", [])}, (
            {"companyId": "company"} if row.company else {}
        )
    fields = {"title": row.object_title or row.object_fields.get("site") or row.company or "Объект"}
    for name, value in row.object_fields.items():
        fields[DIM_CODES[name]] = (
            purpose_value(naming, OBJECT, value) if name == "purpose" else value
        )
    fields.update(who)
    links = {"companyId": "company"} if row.company else {}
    if row.contact:
        links["contactId"] = "contact"
    return fields, links


def _blank(value: Any) -> bool:
    return value in (None, "", 0, "0", [], {})


def merge_fields(slot: str, row: Row, known: Mapping[str, Any], naming: Any) -> dict[str, Any]:
    """The row's values for the known record's blank fields only (new phones/e-mails added)."""
    fields, _links = new_fields(row, slot, naming)
    out = {
        k: v
        for k, v in fields.items()
        if k not in ("fm", "assignedById", "title") and _blank(known.get(k))
    }
    if "fm" in fields:
        extra = _fm(row.phones, row.emails, known.get("fm"))
        if extra:
            out["fm"] = extra
    return out


def _slots(row: Row) -> list[str]:
    return [
        s
        for s, wanted in (
            ("company", row.company),
            ("contact", row.contact),
            ("object", row.has_object),
        )
        if wanted
    ]


def _match(index: PortalIndex, row: Row, slot: str) -> tuple[RecordId, str] | None:
    if slot == "company":
        return index.company(row.inn, row.company)
    if slot == "contact":
        return index.contact(row.phones, row.emails)
    return index.object(row.object_keys)


def decide(index: PortalIndex, row: Row, *, run_id: int, mode: str) -> Step:
    """The row's step; the index learns the records the step creates (as chunk labels)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    found: dict[str, tuple[RecordId, str, bool]] = {}
    for slot in _slots(row):
        mine = index.origin.get(origin_id(run_id, row.number, slot))
        if mine is not None:
            found[slot] = (mine[1], "создан этим импортом до перезапуска", True)
            continue
        match = _match(index, row, slot)
        if match is not None:
            found[slot] = (match[0], match[1], False)
    duplicates = {s: f for s, f in found.items() if not f[2]}
    detail = "; ".join(
        f"{s} #{rid} ({how})" if isinstance(rid, int) else f"{s} из строки {str(rid)[1:-1]} ({how})"
        for s, (rid, how, _) in duplicates.items()
    )
    if duplicates and mode == "skip":
        return Step(row.number, "skipped", (), f"дубликат: {detail}")
    parts: list[Part] = []
    for slot in _slots(row):
        if slot in found:
            rid, how, recovered = found[slot]
            known = index.records.get((SLOTS[slot], rid), {}) if isinstance(rid, int) else {}
            fields = (
                {}
                if recovered or not isinstance(rid, int)
                else merge_fields(slot, row, known, index.naming)
            )
            links = (
                {}
                if recovered
                else {
                    k: s
                    for k, s in new_fields(row, slot, index.naming)[1].items()
                    if _blank(known.get(k)) and isinstance(rid, int)
                }
            )
            parts.append(Part(slot, rid, how, fields, links, recovered))
        else:
            fields, links = new_fields(row, slot, index.naming)
            fields = {**fields, **origin_fields(SLOTS[slot], origin_id(run_id, row.number, slot))}
            parts.append(Part(slot, None, "", fields, links))
            _learn(index, row, slot, label(row.number, slot))
    outcome = "merged" if duplicates else "created"
    return Step(row.number, outcome, tuple(parts), f"объединено: {detail}" if duplicates else "")


def _learn(index: PortalIndex, row: Row, slot: str, pending: str) -> None:
    """Index a record the step creates, under its chunk label until its id is known."""
    if slot == "company":
        if row.inn:
            index.learn("inn", row.inn, "company", pending)
        index.learn("comms", ("company", company_key(row.company)), "company", pending)
    elif slot == "contact":
        for kind, values in (("phone", row.phones), ("email", row.emails)):
            for value in values:
                index.learn("comms", (kind, value), "contact", pending)
    elif row.object_keys is not None and row.object_keys.is_complete:
        index.learn("object_key", dedup_key(row.object_keys), OBJECT, pending)
