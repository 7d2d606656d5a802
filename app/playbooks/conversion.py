"""Lead → client records + deal, for the playbooks that convert leads themselves.

Bitrix24 has no REST conversion, so a playbook's success rule does it in one batch: a
Contact from the lead's name and phone/e-mail (unless the lead already names one), a
Company when the lead has a company title (unless it names one), then a Deal in the
playbook's pipeline with the lead's title, source, responsible, client and ``leadId``.
Records are chained with batch references. (metal builds its own deal — dimensions, region, the
lead's Object — and shares :func:`client_actions`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.rules import actions as A
from app.rules.model import RESPONSIBLE_FIELD, RuleContext


def _fm(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"typeId": f["typeId"], "valueType": f.get("valueType") or "WORK", "value": f["value"]}
        for f in record.get("fm") or []
        if isinstance(f, Mapping) and f.get("typeId") in ("PHONE", "EMAIL") and f.get("value")
    ]


def lead_to_deal(
    ctx: RuleContext,
    pipeline: str,
    first_stage: str,
    extra: Mapping[str, Any] | None = None,
) -> list[A.Action]:
    """The actions converting the lead of ``ctx`` into a deal in ``pipeline`` (a pipeline
    code) at ``first_stage``; ``[]`` when the pipeline is not installed."""
    try:
        category = int(ctx.schema.category(pipeline))
    except (AttributeError, KeyError, TypeError, ValueError):
        return []
    record = dict(ctx.record or {})
    rid = ctx.change.record_id
    who = record.get(RESPONSIBLE_FIELD)
    deal: dict[str, Any] = {
        "title": record.get("title") or f"Лид #{rid}",
        "categoryId": category,
        "stageId": first_stage,
        "leadId": rid,
        "sourceId": record.get("sourceId") or "",
        **(extra or {}),
    }
    if record.get("opportunity"):
        deal["opportunity"] = record["opportunity"]
    if who:
        deal[RESPONSIBLE_FIELD] = int(who)
    out: list[A.Action] = [A.CreateRecord("deal", deal, ref="deal", key="deal")]
    return [*out, *client_actions(record, rid)]


def client_actions(record: Mapping[str, Any], rid: int) -> list[A.Action]:
    """The client side of converting lead ``rid`` into the batch's deal (``Ref("deal")``):
    a Contact from the lead's name and phone/e-mail unless the lead names one, a Company
    from its company title unless it names one, each linked to the deal (the new contact
    to the lead too)."""
    who = record.get(RESPONSIBLE_FIELD)
    out: list[A.Action] = []
    contact = int(record.get("contactId") or 0)
    if not contact and (record.get("name") or record.get("lastName") or _fm(record)):
        fields: dict[str, Any] = {
            "name": record.get("name") or record.get("title") or f"#{rid}",
            "fm": _fm(record),
        }
        if record.get("lastName"):
            fields["lastName"] = record["lastName"]
        if who:
            fields[RESPONSIBLE_FIELD] = int(who)
        out += [
            A.CreateRecord("contact", fields, ref="contact", key="contact"),
            A.LinkRecords(
                ("deal", A.Ref("deal")), ("contact", A.Ref("contact")), via="contactId",
                key="deal_contact",
            ),
            A.LinkRecords(
                ("lead", rid), ("contact", A.Ref("contact")), via="contactId", key="lead_contact"
            ),
        ]  # fmt: skip
    elif contact:
        out.append(
            A.LinkRecords(
                ("deal", A.Ref("deal")), ("contact", contact), via="contactId", key="deal_contact"
            )
        )
    company = int(record.get("companyId") or 0)
    if not company and record.get("companyTitle"):
        fields = {"title": record["companyTitle"]}
        if who:
            fields[RESPONSIBLE_FIELD] = int(who)
        out += [
            A.CreateRecord("company", fields, ref="company", key="company"),
            A.LinkRecords(
                ("deal", A.Ref("deal")), ("company", A.Ref("company")), via="companyId",
                key="deal_company",
            ),
        ]  # fmt: skip
    elif company:
        out.append(
            A.LinkRecords(
                ("deal", A.Ref("deal")), ("company", company), via="companyId", key="deal_company"
            )
        )
    return out
