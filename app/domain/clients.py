"""Who is the client and who owns them: identification of existing clients (repeat leads,
web forms from existing clients, "client came back") and responsible alignment rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from app.domain.numbers import ValueProblem
from app.domain.text import normalise_text
from app.domain.validation import normalise_phone

__all__ = [
    "ClientRecord",
    "ClientMatch",
    "company_key",
    "identify_client",
    "contacts_to_realign",
    "LinkedEntity",
    "object_responsible",
]

# Legal forms dropped when comparing company names: «ООО "Ромашка"» = «Ромашка ООО».
_LEGAL_FORMS = {"ооо", "оао", "зао", "пао", "ао", "ип", "нко", "llc", "ltd", "inc", "гк", "тк"}


def company_key(name: object) -> str:
    """Company name for comparison: normalised, quotes and legal forms removed.

    >>> company_key('ООО «Ромашка-Плюс»')
    'ромашка плюс'
    """
    words = [w for w in normalise_text(name).split() if w not in _LEGAL_FORMS]
    return " ".join(words)


def _phones(values: Iterable[object]) -> set[str]:
    out = set()
    for v in values:
        try:
            out.add(normalise_phone(v))
        except ValueProblem:
            continue  # a malformed number cannot identify anyone
    return out


def _emails(values: Iterable[object]) -> set[str]:
    return {str(v).strip().lower() for v in values if v and re.search(r"@.+\.", str(v))}


@dataclass(frozen=True)
class ClientRecord:
    """An existing client (Contact or Company) with its responsible and identifiers."""

    id: int
    kind: str  # "contact" | "company"
    responsible_id: int
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    company: str = ""


@dataclass(frozen=True)
class ClientMatch:
    client: ClientRecord
    matched_by: tuple[str, ...]  # "phone", "email", "company"


def identify_client(
    phones: Iterable[object] = (),
    emails: Iterable[object] = (),
    company: object = None,
    clients: Iterable[ClientRecord] = (),
) -> ClientMatch | None:
    """The existing client a lead's phone / e-mail / company name points to, or None.

    Phones compare in E.164 (+7…), e-mails case-insensitively, companies via
    :func:`company_key`. Strongest evidence wins: more matched identifiers, then phone over
    e-mail over company, then contacts over companies, then the lowest id (deterministic).
    """
    my_phones, my_emails = _phones(phones), _emails(emails)
    my_company = company_key(company)
    best: tuple[tuple[int, int, int, int], ClientMatch] | None = None
    for c in clients:
        by = []
        if my_phones & _phones(c.phones):
            by.append("phone")
        if my_emails & _emails(c.emails):
            by.append("email")
        if my_company and my_company == company_key(c.company):
            by.append("company")
        if not by:
            continue
        rank = (
            -len(by),
            0 if "phone" in by else 1 if "email" in by else 2,
            0 if c.kind == "contact" else 1,
            c.id,
        )
        if best is None or rank < best[0]:
            best = (rank, ClientMatch(c, tuple(by)))
    return None if best is None else best[1]


def contacts_to_realign(
    company_responsible: int, contact_responsibles: Mapping[int, int | None]
) -> dict[int, int]:
    """Metal "one responsible per client": contacts whose responsible differs from the
    company's → the company's responsible. Empty when everything already agrees."""
    return {
        contact: company_responsible
        for contact, responsible in sorted(contact_responsibles.items())
        if responsible != company_responsible
    }


@dataclass(frozen=True)
class LinkedEntity:
    kind: str  # "deal" | "lead"
    id: int
    responsible_id: int | None
    is_open: bool = True
    linked_at: datetime | None = None


def object_responsible(links: Iterable[LinkedEntity]) -> int | None:
    """Metal "Object responsible = responsible of the linked lead or deal".

    With several links: open before closed, deals before leads (a deal is further along),
    then the most recently linked, then the highest id. None when nothing has a responsible.
    """
    candidates = [link for link in links if link.responsible_id is not None]
    if not candidates:
        return None

    def rank(link: LinkedEntity) -> tuple[int, int, float, int]:
        when = link.linked_at.timestamp() if link.linked_at else float("-inf")
        return (int(link.is_open), int(link.kind == "deal"), when, link.id)

    return max(candidates, key=rank).responsible_id
