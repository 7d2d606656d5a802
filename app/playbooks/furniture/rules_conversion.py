"""Furniture (seed 000: «Заключение договора» — «клиента переводят, когда тот готов сделать
заказ»): the lead becomes a Contact/Company and a deal in «Продажи мебели» («Новая
сделка»), in one batch (``app.playbooks.conversion``), as metal and kitchens do. Where the
success stage is shared with another installed playbook, only the lead's owner converts it
(``app.playbooks.lead_owner``).
"""

from __future__ import annotations

from app.playbooks.conversion import lead_to_deal
from app.playbooks.lead_owner import owns
from app.rules import actions as A
from app.rules.model import Rule, RuleContext, on_stage_entered

CONTRACT = "furniture.lead.contract"


def convert(ctx: RuleContext) -> list[A.Action]:
    if not owns(ctx, "furniture"):
        return []
    return lead_to_deal(ctx, "furniture.sales", "furniture.deal.new")


RULES = [Rule("lead_conversion", "lead", on_stage_entered(CONTRACT), convert)]
