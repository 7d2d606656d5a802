"""Metal: one responsible per client — a Company and all its Contacts share the responsible.

A change of the company's responsible (or a new company) propagates to its contacts (the
mirror knows them: need ``metal.company_contacts``); a contact created or moved to a
company, or given another responsible, takes the company's (need ``company``).
"""

from __future__ import annotations

from app.domain.clients import contacts_to_realign
from app.objects.providers import COMPANY_CONTACTS
from app.rules import actions as A
from app.rules.model import (
    RESPONSIBLE_FIELD,
    Rule,
    RuleContext,
    on_created,
    on_field_changed,
    on_responsible_changed,
)


def company_to_contacts(ctx: RuleContext) -> list[A.Action]:
    who = (ctx.record or {}).get(RESPONSIBLE_FIELD)
    if not who:
        return []
    contacts = ctx.related.get(COMPANY_CONTACTS) or {}
    return [
        A.UpdateFields("contact", cid, {RESPONSIBLE_FIELD: rid}, key=f"c{cid}")
        for cid, rid in contacts_to_realign(int(who), contacts).items()
    ]


def contact_follows_company(ctx: RuleContext) -> list[A.Action]:
    company = ctx.related.get("company") or {}
    want = company.get(RESPONSIBLE_FIELD)
    have = (ctx.record or {}).get(RESPONSIBLE_FIELD)
    if not want or (have and int(have) == int(want)):
        return []
    return [
        A.UpdateFields("contact", ctx.change.record_id, {RESPONSIBLE_FIELD: int(want)}, key="who")
    ]


_COMPANY_NEEDS = (COMPANY_CONTACTS,)

RULES = [
    Rule(
        "company_responsible",
        "company",
        on_responsible_changed(),
        company_to_contacts,
        needs=_COMPANY_NEEDS,
    ),
    Rule("company_created", "company", on_created(), company_to_contacts, needs=_COMPANY_NEEDS),
    Rule("contact_created", "contact", on_created(), contact_follows_company, needs=("company",)),
    Rule(
        "contact_company",
        "contact",
        on_field_changed("companyId"),
        contact_follows_company,
        needs=("company",),
    ),
    Rule(
        "contact_responsible",
        "contact",
        on_responsible_changed(),
        contact_follows_company,
        needs=("company",),
    ),
]
