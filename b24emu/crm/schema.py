"""System fields of every CRM entity type (protocol doc §8.1/§8.2, Appendices A-C).

A :class:`Field` knows its camelCase name (``crm.item.*`` and internal storage key), its
UPPER_CASE name (legacy methods, ``upperName`` in ``crm.item.fields``), its kind (drives
validation and both output typings) and whether the legacy methods show it.
User fields are not here: they live in ``userfields.py`` and are stored under UPPER names.
"""

from __future__ import annotations

from dataclasses import dataclass

from b24emu.crm.naming import camel_to_snake

LEAD, DEAL, CONTACT, COMPANY, SMART_INVOICE = 1, 2, 3, 4, 31
CLASSIC = (LEAD, DEAL, CONTACT, COMPANY)
TYPE_NAMES = {
    LEAD: "LEAD",
    DEAL: "DEAL",
    CONTACT: "CONTACT",
    COMPANY: "COMPANY",
    7: "QUOTE",
    SMART_INVOICE: "SMART_INVOICE",
}
TITLES = {
    LEAD: "Lead",
    DEAL: "Deal",
    CONTACT: "Contact",
    COMPANY: "Company",
    SMART_INVOICE: "Invoice",
}
ABBR = {LEAD: "L", DEAL: "D", CONTACT: "C", COMPANY: "CO", 7: "Q", SMART_INVOICE: "SI"}

INT_KINDS = {
    "integer",
    "user",
    "crm_company",
    "crm_contact",
    "crm_lead",
    "crm_quote",
    "crm_category",
    "crm_entity",
    "crm_deal",
}


@dataclass(frozen=True)
class Field:
    camel: str
    kind: str  # string|text|integer|double|boolean|date|datetime|user|crm_status|crm_currency|crm_*|location|file|fm
    upper: str = ""
    readonly: bool = False
    immutable: bool = False
    multiple: bool = False
    legacy: bool = True  # shown by crm.{lead,deal,contact,company}.* methods
    zero_when_empty: bool = False  # crm.item prints 0 (not null) when unset

    @property
    def upper_name(self) -> str:
        return self.upper or camel_to_snake(self.camel)


def F(camel: str, kind: str = "string", upper: str = "", **kw: object) -> Field:
    return Field(camel, kind, upper, **kw)  # type: ignore[arg-type]


def _ro(camel: str, kind: str, upper: str = "", **kw: object) -> Field:
    return F(camel, kind, upper, readonly=True, **kw)


HEAD = [
    _ro("id", "integer", "ID"),
    _ro("createdTime", "datetime", "DATE_CREATE"),
    _ro("updatedTime", "datetime", "DATE_MODIFY"),
    _ro("createdBy", "user", "CREATED_BY_ID"),
    _ro("updatedBy", "user", "MODIFY_BY_ID"),
    F("assignedById", "user", "ASSIGNED_BY_ID"),
    F("opened", "boolean", "OPENED"),
]
UTM = [F(n) for n in ("utmSource", "utmMedium", "utmCampaign", "utmContent", "utmTerm")]
TAIL = [
    F("originatorId"),
    F("originId"),
    _ro("lastActivityBy", "user", "LAST_ACTIVITY_BY"),
    _ro("lastActivityTime", "datetime", "LAST_ACTIVITY_TIME"),
    *UTM,
    F("observers", "user", multiple=True, legacy=False),
]
MOVED = [_ro("movedBy", "user", "MOVED_BY_ID"), _ro("movedTime", "datetime", "MOVED_TIME")]
COMMS = [
    _ro("hasPhone", "boolean"),
    _ro("hasEmail", "boolean"),
    _ro("hasImol", "boolean"),
    _ro("phone", "string", legacy=False),
    _ro("email", "string", legacy=False),
    F("fm", "fm", legacy=False, multiple=True),
]
MONEY = [
    F("currencyId", "crm_currency"),
    F("opportunity", "double"),
    F("isManualOpportunity", "boolean"),
    F("taxValue", "double"),
]
PERSON = [
    F("honorific", "crm_status"),
    F("name"),
    F("secondName"),
    F("lastName"),
    F("birthdate", "date"),
    F("post"),
]

LEAD_FIELDS = [
    *HEAD,
    F("title"),
    *PERSON,
    F("companyTitle"),
    F("companyId", "crm_company", zero_when_empty=True),
    F("contactId", "crm_contact", zero_when_empty=True),
    F("contactIds", "crm_contact", multiple=True, legacy=False),
    _ro("isReturnCustomer", "boolean"),
    F("sourceId", "crm_status"),
    F("sourceDescription", "text"),
    F("stageId", "crm_status", "STATUS_ID"),
    F("statusDescription", "text"),
    _ro("stageSemanticId", "string", "STATUS_SEMANTIC_ID"),
    F("comments", "text"),
    *[f for f in MONEY if f.camel != "taxValue"],
    _ro("dateClosed", "datetime"),
    F("address", "text"),
    F("webformId", "integer", legacy=False),
    *MOVED,
    *COMMS,
    *TAIL,
]
DEAL_FIELDS = [
    *HEAD,
    F("title"),
    F("typeId", "crm_status"),
    F("categoryId", "crm_category"),
    F("stageId", "crm_status", "STAGE_ID"),
    _ro("stageSemanticId", "string", "STAGE_SEMANTIC_ID"),
    _ro("isNew", "boolean"),
    F("isRecurring", "boolean"),
    _ro("isReturnCustomer", "boolean"),
    _ro("isRepeatedApproach", "boolean"),
    _ro("closed", "boolean"),
    F("probability", "integer"),
    *MONEY,
    F("companyId", "crm_company"),
    F("contactId", "crm_contact"),
    F("contactIds", "crm_contact", multiple=True, legacy=False),
    F("leadId", "crm_lead"),
    F("quoteId", "crm_quote"),
    F("begindate", "date"),
    F("closedate", "date"),
    F("comments", "text"),
    F("sourceId", "crm_status"),
    F("sourceDescription", "text"),
    F("additionalInfo"),
    F("locationId", "location"),
    *MOVED,
    *TAIL,
]
CONTACT_FIELDS = [
    *HEAD,
    *PERSON,
    F("photo", "file"),
    F("typeId", "crm_status"),
    F("sourceId", "crm_status"),
    F("sourceDescription", "text"),
    F("comments", "text"),
    F("export", "boolean"),
    F("companyId", "crm_company"),
    F("companyIds", "crm_company", multiple=True, legacy=False),
    F("leadId", "crm_lead"),
    F("originVersion"),
    F("address", "text"),
    F("categoryId", "crm_category", legacy=False),
    *COMMS,
    *TAIL,
]
COMPANY_FIELDS = [
    *HEAD,
    F("title"),
    F("typeId", "crm_status", "COMPANY_TYPE"),
    F("logo", "file"),
    F("bankingDetails"),
    F("industry", "crm_status"),
    F("employees", "crm_status"),
    F("currencyId", "crm_currency"),
    F("revenue", "double"),
    F("comments", "text"),
    F("isMyCompany", "boolean"),
    F("contactIds", "crm_contact", multiple=True, legacy=False),
    F("leadId", "crm_lead"),
    F("originVersion"),
    F("address", "text"),
    F("categoryId", "crm_category", legacy=False),
    *COMMS,
    *TAIL,
]

# Smart-process fields, grouped by the type flag that enables them (Appendix A notes).
SPA_BASE = [
    *HEAD,
    F("title"),
    F("xmlId"),
    F("webformId", "integer"),
    F("categoryId", "crm_category"),
    *MOVED,
    _ro("lastActivityBy", "user", "LAST_ACTIVITY_BY"),
    _ro("lastActivityTime", "datetime", "LAST_ACTIVITY_TIME"),
]
SPA_BY_FLAG = {
    "isStagesEnabled": [
        F("stageId", "crm_status"),
        _ro("previousStageId", "crm_status"),
        _ro("stageSemanticId", "string"),
    ],
    "isBeginCloseDatesEnabled": [F("begindate", "date"), F("closedate", "date")],
    "isClientEnabled": [
        F("companyId", "crm_company"),
        F("contactId", "crm_contact"),
        F("contactIds", "crm_contact", multiple=True),
    ],
    "isLinkWithProductsEnabled": MONEY,
    "isMycompanyEnabled": [F("mycompanyId", "crm_company")],
    "isSourceEnabled": [F("sourceId", "crm_status"), F("sourceDescription", "text")],
    "isObserversEnabled": [F("observers", "user", multiple=True)],
}

CLASSIC_FIELDS = {
    LEAD: LEAD_FIELDS,
    DEAL: DEAL_FIELDS,
    CONTACT: CONTACT_FIELDS,
    COMPANY: COMPANY_FIELDS,
}
MULTIFIELD_TYPES = ("PHONE", "EMAIL", "WEB", "IM", "LINK")
HAS_FM = (LEAD, CONTACT, COMPANY)


def spa_fields(flags: dict[str, str]) -> list[Field]:
    """Fields of a smart process whose type has ``flags`` (``"Y"``/``"N"``)."""
    fields = list(SPA_BASE)
    for flag, extra in SPA_BY_FLAG.items():
        if flags.get(flag) == "Y":
            fields.extend(extra)
    return fields


def parent_field(etid: int) -> Field:
    return F(f"parentId{etid}", "crm_entity", f"PARENT_ID_{etid}")
