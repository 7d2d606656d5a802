"""Kitchens «Ура, согласие получено» (spec §3 rule 11): a Contact and a Deal from the lead.

Bitrix24 has no REST conversion, so one batch creates the deal (title, responsible, source,
expected sum as its amount, comments, ``leadId``) with every filled ``UF_CRM_KT_*`` field
copied — the playbook declares the same codes on deals. List fields are distinct fields on a
lead and a deal, so the option is carried over by its code, not by the lead's option id. A
contact is made from the lead's name, phone and e-mail unless the lead already names one.

«Ура, согласие получено» is ``CONVERTED``, shared with metal's «Конвертирован в сделку» when
both are installed: only the playbook that owns the lead converts it
(``app.playbooks.lead_owner``), so one deal is created, not two.
"""

from __future__ import annotations

from typing import Any

from app.playbooks.kitchens import FIELDS
from app.playbooks.kitchens.rules_control import AGREED, blocked
from app.playbooks.lead_owner import owns
from app.rules import actions as A
from app.rules.model import RESPONSIBLE_FIELD, Rule, RuleContext, on_stage_entered

DEAL_CODES = {f.code for f in FIELDS if f.entity == "deal"}
STANDARD = ("sourceId", "comments", "currencyId")


def _fm(record: dict) -> list[dict[str, Any]]:
    return [
        {"typeId": f["typeId"], "valueType": f.get("valueType") or "WORK", "value": f["value"]}
        for f in record.get("fm") or []
        if isinstance(f, dict) and f.get("typeId") in ("PHONE", "EMAIL") and f.get("value")
    ]


def _option_code(schema: Any, code: str, entity: str, value: Any) -> str | None:
    """The option code behind a list field's id on ``entity`` (None when unknown)."""
    enum_id = getattr(schema, "enum_id", None)
    if enum_id is None:
        return None
    spec = next(f for f in FIELDS if f.code == code and f.entity == entity)
    for option in spec.options:
        try:
            if str(enum_id(code, option.code, entity=entity)) == str(value):
                return option.code
        except (KeyError, LookupError):
            continue
    return None


def copied_fields(record: dict, schema: Any) -> dict[str, Any]:
    """Every filled kitchens field of the lead, as the deal's values."""
    out: dict[str, Any] = {}
    for spec in FIELDS:
        if spec.entity != "lead" or spec.code not in DEAL_CODES:
            continue
        value = record.get(spec.code)
        if value in (None, "", []):
            continue
        if spec.options:
            option = _option_code(schema, spec.code, "lead", value)
            if option is not None:
                value = schema.enum_id(spec.code, option, entity="deal")
        out[spec.code] = value
    return out


def convert(ctx: RuleContext) -> list[A.Action]:
    record = dict(ctx.record or {})
    if blocked(ctx) or not owns(ctx, "kitchens"):
        return []  # with metal installed too a metal lead is converted by metal
    rid = ctx.change.record_id
    who = record.get(RESPONSIBLE_FIELD)
    deal: dict[str, Any] = {"title": record.get("title") or f"Лид #{rid}", "leadId": rid}
    for key in STANDARD:
        if record.get(key) not in (None, ""):
            deal[key] = record[key]
    amount = record.get("opportunity") or record.get("UF_CRM_KT_EXPECTED_SUM")
    if amount:
        deal["opportunity"] = amount
    if who:
        deal[RESPONSIBLE_FIELD] = int(who)
    deal.update(copied_fields(record, ctx.schema))
    out: list[A.Action] = [A.CreateRecord("deal", deal, ref="deal", key="deal")]
    contact = int(record.get("contactId") or 0)
    if contact:
        out.append(
            A.LinkRecords(("deal", A.Ref("deal")), ("contact", contact), via="contactId", key="dc")
        )
        return out
    if not (record.get("name") or record.get("lastName") or _fm(record)):
        return out
    fields: dict[str, Any] = {"name": record.get("name") or record.get("title") or f"#{rid}"}
    fields["fm"] = _fm(record)
    if record.get("lastName"):
        fields["lastName"] = record["lastName"]
    if who:
        fields[RESPONSIBLE_FIELD] = int(who)
    out += [
        A.CreateRecord("contact", fields, ref="contact", key="contact"),
        A.LinkRecords(
            ("deal", A.Ref("deal")), ("contact", A.Ref("contact")), via="contactId", key="dc"
        ),
        A.LinkRecords(("lead", rid), ("contact", A.Ref("contact")), via="contactId", key="lc"),
    ]
    return out


RULES = [Rule("agreed_conversion", "lead", on_stage_entered(AGREED), convert)]
