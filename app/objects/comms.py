"""Who an e-mail, phone or company name belongs to: the ``client_comms`` index, following
the mirror (contacts and companies), and the lookup the routing rule uses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.domain.clients import ClientMatch, ClientRecord, company_key, identify_client
from app.domain.numbers import ValueProblem
from app.domain.validation import normalise_phone
from app.store import client_comms, mirror

CLIENT_ENTITIES = ("contact", "company")


def values_of(entity: str, record: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(kind, normalised value) pairs that identify the record."""
    out: set[tuple[str, str]] = set()
    for f in record.get("fm") or []:
        if not isinstance(f, Mapping) or not f.get("value"):
            continue
        if f.get("typeId") == "PHONE":
            try:
                out.add(("phone", normalise_phone(f["value"])))
            except ValueProblem:
                continue  # a malformed number identifies nobody
        elif f.get("typeId") == "EMAIL":
            out.add(("email", str(f["value"]).strip().lower()))
    if entity == "company" and company_key(record.get("title")):
        out.add(("company", company_key(record.get("title"))))
    return out


# the playbooks whose rules look clients up by phone, e-mail or company name
IDENTIFYING = frozenset({"metal", "b2b"})


def identifies_clients(session: Session, member_id: str) -> bool:
    """Whether the portal runs a playbook that looks clients up (cached per session). A
    portal without an installation row (tools, tests) counts as yes: indexing too much is
    harmless."""
    cache = session.info.setdefault("client_index_portals", {})
    if member_id not in cache:
        from app.store import installations

        row = installations.get(session, member_id)
        cache[member_id] = row is None or bool(IDENTIFYING & set(row.playbooks or ()))
    return cache[member_id]


def _on_mirror(session: Session, member_id: str, entity: str, record_id: int, data) -> None:
    if entity not in CLIENT_ENTITIES or not identifies_clients(session, member_id):
        return
    if data is None:
        client_comms.replace(session, member_id, entity, record_id, (), None)
        return
    if data.get(mirror.OURS) and len(data) <= 2:
        return
    who = data.get("assignedById")
    client_comms.replace(
        session, member_id, entity, record_id, values_of(entity, data), int(who) if who else None
    )


def install() -> None:
    mirror.listen(_on_mirror)


def identify(
    session: Session,
    member_id: str,
    phones: Iterable[str],
    emails: Iterable[str],
    company: Any = None,
) -> ClientMatch | None:
    """The existing client the lead's identifiers point to (ranking as
    :func:`app.domain.clients.identify_client`), from indexed lookups only."""
    lead = values_of(
        "company",
        {
            "fm": [
                *({"typeId": "PHONE", "value": p} for p in phones),
                *({"typeId": "EMAIL", "value": e} for e in emails),
            ],
            "title": company,
        },
    )
    rows = client_comms.find(session, member_id, lead)
    grouped: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        rec = grouped.setdefault((row.entity, row.record_id), {"who": row.responsible_id, "v": []})
        rec["v"].append((row.kind, row.value))
    known = [
        ClientRecord(
            rid,
            entity,
            int(rec["who"]),
            tuple(v for k, v in rec["v"] if k == "phone"),
            tuple(v for k, v in rec["v"] if k == "email"),
            next((v for k, v in rec["v"] if k == "company"), ""),
        )
        for (entity, rid), rec in sorted(grouped.items())
        if rec["who"]
    ]
    return identify_client(phones, emails, company, known)
