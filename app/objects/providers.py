"""Store-side needs of the metal rules (``app.sync.gather``): read-only lookups.

* ``metal.object_candidates`` — Objects with the record's duplicate key (the index).
* ``metal.linked_objects``    — Objects that belong to the lead/deal (index + binding field).
* ``metal.client``            — the existing client (contact/company) a lead's phone /
                                e-mail / company name identifies (``client_comms`` index).
* ``metal.deferred_deals``    — the client's deals waiting in «Отложенный спрос».
* ``metal.company_contacts``  — a company's contacts with their responsibles (the mirror).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.domain.dedup import dedup_hash
from app.objects import comms as client_index
from app.objects import index
from app.objects.keys import OBJECT, keys_of, linked_object
from app.rules import actions as A
from app.rules.effects import written
from app.store.mirror import MirrorRecord
from app.sync.gather import GatherEnv, provider

DEFERRED = "metal.deal.deferred"
CANDIDATES = "metal.object_candidates"
LINKED = "metal.linked_objects"
CLIENT = "metal.client"
DEFERRED_DEALS = "metal.deferred_deals"
COMPANY_CONTACTS = "metal.company_contacts"


def _rows(env: GatherEnv, entity: str, stage: str | None = None):
    q = select(MirrorRecord).where(
        MirrorRecord.member_id == env.member_id,
        MirrorRecord.entity == entity,
        MirrorRecord.deleted.is_(False),
    )
    if stage is not None:
        q = q.where(MirrorRecord.stage == stage)
    return env.session.scalars(q)


def comms(record: Any, kind: str) -> list[str]:
    """Values of the ``fm`` multifield of ``kind`` (PHONE / EMAIL)."""
    return [
        str(f.get("value"))
        for f in (record or {}).get("fm") or []
        if isinstance(f, dict) and f.get("typeId") == kind and f.get("value")
    ]


@provider(CANDIDATES)
def object_candidates(env: GatherEnv) -> list[int]:
    own = linked_object(env.record)
    keys = keys_of(env.record, env.entity, env.naming)
    return index.candidates(env.session, env.member_id, keys, exclude=[own] if own else [])


@provider(LINKED)
def linked_objects(env: GatherEnv) -> list[int]:
    ids = set(index.linked(env.session, env.member_id, env.entity, env.record_id))
    own = linked_object(env.record)
    if own:
        ids.add(own)
    return sorted(ids)


@provider(CLIENT)
def client(env: GatherEnv) -> dict[str, Any] | None:
    """``{"kind", "id", "responsible", "by"}`` of the identified client, else None
    (indexed lookups in ``client_comms``, no scan)."""
    record = env.record or {}
    phones, emails = comms(record, "PHONE"), comms(record, "EMAIL")
    company = record.get("companyTitle")
    if not (phones or emails or company):
        return None
    match = client_index.identify(env.session, env.member_id, phones, emails, company)
    if match is None:
        return None
    c = match.client
    return {"kind": c.kind, "id": c.id, "responsible": c.responsible_id, "by": match.matched_by}


def _client_of(env: GatherEnv) -> tuple[set[int], set[int]]:
    """(contact ids, company ids) the current record points to."""
    record = env.record or {}
    contacts, companies = set(), set()
    if env.entity == "contact":
        contacts.add(env.record_id)
    elif env.entity == "company":
        companies.add(env.record_id)
    elif env.entity == "activity":
        owner = env.related.get("owner") or {}
        contacts |= {int(c) for c in owner.get("contactIds") or [] if c}
        if owner.get("contactId"):
            contacts.add(int(owner["contactId"]))
        if owner.get("companyId"):
            companies.add(int(owner["companyId"]))
        etid = str(record.get("OWNER_TYPE_ID") or "")
        if etid in ("3", "4") and record.get("OWNER_ID"):
            (contacts if etid == "3" else companies).add(int(record["OWNER_ID"]))
    elif env.entity == "lead":
        if record.get("contactId"):
            contacts.add(int(record["contactId"]))
        if record.get("companyId"):
            companies.add(int(record["companyId"]))
        found = client(env)
        if found:
            (contacts if found["kind"] == "contact" else companies).add(int(found["id"]))
    return contacts, companies


@provider(DEFERRED_DEALS)
def deferred_deals(env: GatherEnv) -> list[dict[str, Any]]:
    """Deals in «Отложенный спрос» of the client behind the record (activity owner, lead…),
    as ``{"id", "responsible", "title"}``. An activity on such a deal itself counts too."""
    stage = env.naming.stage_id("deal", DEFERRED)
    contacts, companies = _client_of(env)
    out = set()
    record = env.record or {}
    if env.entity == "activity" and str(record.get("OWNER_TYPE_ID")) == "2":
        owner_id = int(record.get("OWNER_ID") or 0)
    else:
        owner_id = 0
    for row in _rows(env, "deal", stage):
        data = row.data or {}
        ids = {int(c) for c in data.get("contactIds") or [] if c}
        if data.get("contactId"):
            ids.add(int(data["contactId"]))
        company = int(data.get("companyId") or 0)
        if row.record_id == owner_id or ids & contacts or (company and company in companies):
            who = data.get("assignedById")
            out.add((row.record_id, int(who) if who else None, str(data.get("title") or "")))
    return [{"id": i, "responsible": w, "title": t} for i, w, t in sorted(out)]


@provider(COMPANY_CONTACTS)
def company_contacts(env: GatherEnv) -> dict[int, int | None]:
    """``contact id → responsible`` of the company's contacts known to the mirror."""
    out: dict[int, int | None] = {}
    for row in _rows(env, "contact"):
        data = row.data or {}
        if int(data.get("companyId") or 0) == env.record_id or env.record_id in [
            int(c) for c in data.get("companyIds") or [] if c
        ]:
            who = data.get("assignedById")
            out[row.record_id] = int(who) if who else None
    return out


# -- when other records' pending actions could change these answers (app.sync.group);
# registered again with them (the decorators above registered the lookups alone) ------


def _writes(pending, *types: str) -> bool:
    return any(written(a)[0] & set(types) for a in pending)


def _candidates_conflict(pending, env: GatherEnv) -> bool:
    """A pending Object with this record's complete key (or one we cannot key, or any
    change to an existing Object) would be a candidate one record at a time."""
    mine = keys_of(env.record, env.entity, env.naming)
    if mine is None or not mine.is_complete:
        return False  # candidates() answers [] whatever the index holds
    digest = dedup_hash(mine)
    for action in pending:
        if isinstance(action, A.CreateRecord) and action.entity == OBJECT:
            theirs = keys_of(action.fields, OBJECT, env.naming)
            if theirs is None or (theirs.is_complete and dedup_hash(theirs) == digest):
                return True
        elif OBJECT in written(action)[0]:
            return True
    return False


def _linked_conflict(pending, env: GatherEnv) -> bool:
    here = (env.entity, env.record_id)
    for action in pending:
        if isinstance(action, A.CreateRecord) and action.entity == OBJECT:
            if action.link_from == here:
                return True
        elif OBJECT in written(action)[0]:
            return True
    return False


provider(CANDIDATES, conflicts=_candidates_conflict)(object_candidates)
provider(LINKED, conflicts=_linked_conflict)(linked_objects)
provider(CLIENT, conflicts=lambda pending, env: _writes(pending, "contact", "company"))(client)
provider(
    DEFERRED_DEALS, conflicts=lambda pending, env: _writes(pending, "deal", "contact", "company")
)(deferred_deals)
provider(COMPANY_CONTACTS, conflicts=lambda pending, env: _writes(pending, "contact", "company"))(
    company_contacts
)
