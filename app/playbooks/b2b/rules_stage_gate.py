"""B2B stage discipline (seed 003 §3.2, spec §4 rule 2): mandatory fields per stage.

The four qualification answers the seed makes mandatory — the client's target audience,
geography, order volume and business type, kept on the deal's company — plus what each
stage needs before the deal leaves it forward. A deal moved forward with gaps goes back
where it came from and its responsible is told exactly what is missing (the generic stage
gate, ``app.rules.stage_gate``, the mechanism of the kitchens error control).

The lists are data below; the ``stage_required_fields`` setting replaces the list of any
stage it names (``{"b2b.sales.offer": [["opportunity", "Сумма сделки", "number"]]}``).
The sample photo at «Встреча» has its own rule (``rules_samples``).
"""

from __future__ import annotations

from dataclasses import replace

from app.domain.validation import FieldRule
from app.rules.model import Rule, RuleContext, on_stage_entered
from app.rules.stage_gate import StageGate

COMPANY = FieldRule("companyId", "Компания клиента", "link")
QUALIFICATION = (
    FieldRule("company:UF_CRM_B2B_AUDIENCE", "Целевая аудитория (в компании)"),
    FieldRule("company:UF_CRM_B2B_GEO", "География (в компании)"),
    FieldRule("company:UF_CRM_B2B_VOLUME", "Объём заказа (в компании)", "number"),
    FieldRule("company:UF_CRM_B2B_BUSINESS", "Тип бизнеса (в компании)", "choice"),
)
SUM = FieldRule("opportunity", "Сумма сделки", "amount")
PAY_DUE = FieldRule("UF_CRM_B2B_PAY_DUE", "Оплатить до")
MESSAGE = "Сделка «{title}» возвращена на прежнюю стадию: "
SETTING = "stage_required_fields"

S, R, C = "b2b.sales.", "b2b.repeat.", "b2b.cold."
GATES = (
    StageGate(
        "deal", S, MESSAGE,
        (S + "new", S + "needs", S + "offer", S + "invoice", S + "shipment"),
        {S + "new": (COMPANY,), S + "needs": QUALIFICATION, S + "offer": (SUM,),
         S + "invoice": (PAY_DUE,)},
        {S + "won": (S + "shipment", ())},
        settings_key=SETTING,
    ),
    StageGate(
        "deal", R, MESSAGE,
        (R + "planned", R + "contacted", R + "invoice"),
        {R + "planned": (COMPANY,), R + "contacted": (SUM,), R + "invoice": (PAY_DUE,)},
        {R + "won": (R + "invoice", ())},
        settings_key=SETTING,
    ),
    StageGate(
        "deal", C, MESSAGE,
        (C + "new", C + "meeting", C + "sample", C + "order"),
        {C + "new": (COMPANY,), C + "order": QUALIFICATION},
        {C + "won": (C + "order", ())},
        settings_key=SETTING,
    ),
)  # fmt: skip


def gate_of(stage: str | None) -> StageGate | None:
    """The gate of the pipeline ``stage`` belongs to."""
    return next((g for g in GATES if str(stage or "").startswith(g.prefix)), None)


def blocked(ctx: RuleContext) -> bool:
    """True while the deal sits in a stage whose needs are unmet: other b2b stage work
    (tasks, the repeat deal, the survey) waits until it is fixed."""
    gate = gate_of((ctx.record or {}).get("stageId"))
    return gate is not None and gate.blocked(ctx)


def forward(ctx: RuleContext) -> bool:
    gate = gate_of(ctx.change.stage_to)
    return gate is None or gate.forward(ctx)


def _rule(gate: StageGate) -> Rule:
    # moves only: a deal created straight into a later stage (an import, a conversion) was
    # not "moved forward with gaps"
    name = "stage_gate_" + gate.prefix.split(".")[1]
    trigger = replace(on_stage_entered(*gate.controlled()), on_new_records=False)
    return Rule(name, "deal", trigger, gate.control, needs=("company",))


RULES = [_rule(g) for g in GATES]
