"""Which placeholders a template setting may name, so ``settings --set`` can refuse a typo.

A title template naming an unknown field used to be stored, then every rule rendering it
gave up (``compile_template`` fails) and titles silently stopped. :func:`check` compiles the
new text against the names its renderer knows and raises ``ValueError`` listing them.

Registered templates (add a row when a playbook gains one):

* ``metal.title_template`` — rendered over a lead's or deal's fields
  (``app.playbooks.metal.rules_fields.title_for``, the ``title_by_template`` robot): the
  standard ``crm.item`` fields of a lead or deal (official docs
  ``api-reference/crm/universal/object-fields.md``, common + lead + deal sections), every
  playbook's custom field codes (``UF_CRM_MT_AREA``) and their short tails (``area``), and
  the fixed short names ``source``, ``created``, ``responsible``.
* ``kitchens.abc_title_template`` — ``class``, ``coefficients``, ``total``, ``client`` and
  the questionnaire answers (``app.playbooks.kitchens.rules_scoring.render_title``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.domain.templates import TemplateError, compile_template

# api-reference/crm/universal/object-fields.md — "Common Fields", "Lead", "Deal"
COMMON_ITEM_FIELDS = (
    "assignedById createdBy createdTime entityTypeId id lastActivityBy lastActivityTime opened "
    "updatedBy updatedTime utmCampaign utmContent utmMedium utmSource utmTerm webformId"
).split()
LEAD_FIELDS = (
    "dateCreateShort dateModifyShort companyId contactId stageId isConvert statusDescription "
    "stageSemanticId productId opportunity currencyId sourceId sourceDescription title name "
    "lastName secondName shortName companyTitle post address comments originatorId originId "
    "dateClosed birthdate honorific hasPhone hasEmail hasImol login isReturnCustomer "
    "isManualOpportunity movedBy movedTime phoneMobile phoneWork phoneMailing emailHome "
    "emailWork emailMailing skype icq imol email phone observers contactIds"
).split()
DEAL_FIELDS = (
    "dateCreateShort dateModifyShort leadId companyId contactId quoteId title productId "
    "categoryId stageId stageSemanticId isNew isRecurring isReturnCustomer isRepeatedApproach "
    "closed typeId opportunity isManualOpportunity taxValue currencyId probability comments "
    "begindate closedate eventDate eventId eventDescription locationId sourceId "
    "sourceDescription originatorId originId additionalInfo orderStage movedBy movedTime isWork "
    "isWon isLose receivedAmount lostAmount hasProducts observers contactIds"
).split()
_UF_TAIL = re.compile(r"^UF_CRM_[A-Z0-9]+_([A-Z0-9_]+)$")


def _record_fields() -> frozenset[str]:
    from app.playbooks import NAMES, load
    from app.robots.title_by_template import FIXED_ALIASES

    names = set(COMMON_ITEM_FIELDS) | set(LEAD_FIELDS) | set(DEAL_FIELDS) | set(FIXED_ALIASES)
    for playbook in NAMES:
        for spec in load(playbook).fields:
            if spec.entity in ("lead", "deal"):
                names.add(spec.code)
                tail = _UF_TAIL.match(spec.code)
                if tail:
                    names.add(tail.group(1).lower())
    return frozenset(names)


def _abc_title_fields() -> frozenset[str]:
    from app.playbooks.kitchens.rules_scoring import ANSWERS

    return frozenset({"class", "coefficients", "total", "client", *ANSWERS})


TEMPLATES: dict[tuple[str, str], Callable[[], frozenset[str]]] = {
    ("metal", "title_template"): _record_fields,
    ("kitchens", "abc_title_template"): _abc_title_fields,
}


def _order(name: str) -> tuple[bool, str]:
    """Short names first, then the portal's own codes (UF_CRM_…)."""
    return (name.startswith("UF_"), name.lower())


def fields_for(playbook: str, key: str) -> frozenset[str] | None:
    """The placeholders ``playbook.key`` may name, or None when it is not a template."""
    provider = TEMPLATES.get((playbook, key))
    return provider() if provider else None


def check(playbook: str, key: str, value: object) -> None:
    """ValueError naming the problem (and the valid names) when a template will not render."""
    known = fields_for(playbook, key)
    if known is None or not isinstance(value, str) or not value.strip():
        return
    try:
        compile_template(value, known)
    except TemplateError as exc:
        used = set(re.findall(r"{([^{}:!]*)", value.replace("{{", "").replace("}}", "")))
        unknown = sorted(n for n in used if n and n not in known)
        if unknown:
            shown = ", ".join("{" + n + "}" for n in unknown)
            raise ValueError(
                f"{key}: unknown field {shown}; valid: {', '.join(sorted(known, key=_order))}"
            ) from None
        raise ValueError(f"{key}: {exc}") from None
