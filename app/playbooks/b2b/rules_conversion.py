"""B2B (seed 003: «воронка «лиды», которая перетекает в «сделку»»): a lead entering
«Передан в продажи» becomes a Contact/Company and a deal in «Продажи B2B» («Новый
клиент»), in one batch (``app.playbooks.conversion``). Where the success stage is shared
with another installed playbook, only the lead's owner converts it
(``app.playbooks.lead_owner``).
"""

from __future__ import annotations

from app.playbooks.conversion import lead_to_deal
from app.playbooks.lead_owner import owns
from app.rules import actions as A
from app.rules.model import Rule, RuleContext, on_stage_entered

CONVERTED = "b2b.lead.converted"


def convert(ctx: RuleContext) -> list[A.Action]:
    if not owns(ctx, "b2b"):
        return []
    return lead_to_deal(ctx, "b2b.sales", "b2b.sales.new")


RULES = [Rule("lead_conversion", "lead", on_stage_entered(CONVERTED), convert)]
