"""Metal: a failure letter to the client on «Отказ с нашей стороны» / «Не продукция компании».

The texts are the setting ``refusal_templates`` (stage code → text; ``{title}`` is the
lead's title); an empty text falls back to the default letter below. The letter goes out as
an e-mail through :class:`MessageClient` (recorded on the lead's timeline).
"""

from __future__ import annotations

from app.rules import actions as A
from app.rules.model import Rule, RuleContext, on_stage_entered
from app.timers.steps import render

DECLINED = "metal.lead.declined"
NOT_OURS = "metal.lead.not_our_product"
SUBJECTS = {DECLINED: "Ответ на ваш запрос", NOT_OURS: "О вашем запросе"}
DEFAULTS = {
    DECLINED: (
        "Здравствуйте! Спасибо за обращение «{title}». К сожалению, сейчас мы не сможем "
        "выполнить этот заказ. Будем рады помочь с другими объектами."
    ),
    NOT_OURS: (
        "Здравствуйте! Спасибо за обращение «{title}». Мы производим металлоконструкции "
        "зданий; запрошенная продукция не входит в наш ассортимент."
    ),
}


def refusal_letter(ctx: RuleContext) -> list[A.Action]:
    stage = next(s for s in (DECLINED, NOT_OURS) if s in _stages(ctx))
    templates = ctx.settings.get("refusal_templates") or {}
    text = str((templates.get(stage) if isinstance(templates, dict) else "") or DEFAULTS[stage])
    rid = ctx.change.record_id
    return [
        A.MessageClient("email", ("lead", rid), SUBJECTS[stage], render(text, ctx), key="letter")
    ]


def _stages(ctx: RuleContext) -> set[str]:
    return {ctx.change.stage_to or ""} | set(ctx.change.stage_to_codes)


RULES = [Rule("lead_refusal_letter", "lead", on_stage_entered(DECLINED, NOT_OURS), refusal_letter)]
