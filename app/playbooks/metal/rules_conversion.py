"""Metal: a lead entering «Конвертирован в сделку» becomes Contact/Company + Deal (rule 8).

Bitrix24 has no REST conversion, so the app does it in one batch: a Contact from the
lead's name and phone/e-mail (unless the lead already names one), a Company when the lead
has a company title (unless it names one), then a Deal in the metal pipeline with the
lead's dimensions, region, responsible, client and ``leadId``; the lead's Object moves to
the deal (its deal parent is set). Records are chained with batch references.

With kitchens installed too, the ``CONVERTED`` stage is shared: only the playbook that owns
the lead converts it (``app.playbooks.lead_owner``), so one deal is created, not two.
"""

from __future__ import annotations

from typing import Any

from app.objects.keys import DIMENSIONS, OBJECT, code, linked_object
from app.playbooks.conversion import client_actions
from app.playbooks.lead_owner import owns
from app.playbooks.metal.rules_fields import computed
from app.rules import actions as A
from app.rules.model import RESPONSIBLE_FIELD, Rule, RuleContext, on_stage_entered

CONVERTED = "metal.lead.converted"
FIRST_DEAL_STAGE = "metal.deal.request"


def _category(schema: Any) -> int | None:
    try:
        return int(schema.category("metal.deal"))
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def convert(ctx: RuleContext) -> list[A.Action]:
    if not owns(ctx, "metal"):
        return []  # kitchens installed too and the lead is theirs (app.playbooks.lead_owner)
    record = dict(ctx.record or {})
    rid = ctx.change.record_id
    who = record.get(RESPONSIBLE_FIELD)
    out: list[A.Action] = []
    deal: dict[str, Any] = {
        "title": record.get("title") or f"Лид #{rid}",
        "stageId": FIRST_DEAL_STAGE,
        "leadId": rid,
        "sourceId": record.get("sourceId") or "",
    }
    category = _category(ctx.schema)
    if category is not None:
        deal["categoryId"] = category
    if who:
        deal[RESPONSIBLE_FIELD] = int(who)
    for name in DIMENSIONS:
        value = record.get(code("lead", name))
        if value not in (None, "", []):
            # lead and deal list fields are distinct fields: copy the option, not the id
            if name == "PURPOSE":
                from app.objects.keys import purpose_code, purpose_value

                value = purpose_value(ctx.schema, "deal", purpose_code(ctx.schema, "lead", value))
            deal[code("deal", name)] = value
    if record.get("UF_CRM_MT_REGION"):
        deal["UF_CRM_MT_REGION"] = record["UF_CRM_MT_REGION"]
    # the deal is born complete, as deal_fill_new would leave a deal a person made (area,
    # tonnage): the app's own creation skips the rules, and when its ADD echo is not known
    # as ours (its answer lost, Redis flushed) those rules find nothing to change
    deal.update(computed(deal, "deal", ctx.settings))
    out.append(A.CreateRecord("deal", deal, ref="deal", key="deal"))
    out += client_actions(record, rid)
    obj = linked_object(record)
    if obj:
        out.append(A.LinkRecords((OBJECT, obj), ("deal", A.Ref("deal")), key="object_deal"))
    return out


RULES = [Rule("lead_conversion", "lead", on_stage_entered(CONVERTED), convert)]
