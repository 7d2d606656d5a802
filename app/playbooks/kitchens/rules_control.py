"""Kitchens error control («система контроля ошибок», spec §3 rule 8).

What each stage needs is data (:data:`REQUIREMENTS`): a stage's list must be complete
before the lead *leaves* it forward — budget, material and address are gathered in
«Менеджер назначен», the seven qualification answers in «Клиент наш», the booking in
«Замер назначен». So entering a stage needs the lists of every earlier stage of
:data:`ORDER` (cumulative); the side stages (pause, agreed, lost) name their own needs.
E-mail and phone numbers are format-checked whenever they are filled, and the client's
e-mail is required from «Каталог и КП отправлены» on (:data:`EMAIL_FROM`): the catalogue
and the proposal go out by e-mail (seed 002: «Если … было пропущено поле электронный адрес
клиента, то система обязательно это проверит»).

The mechanism is generic (``app.rules.stage_gate``); this module is its kitchens data.
A lead moved forward with gaps is moved back to the stage it came from, and its responsible
gets a notification plus a timeline comment listing exactly what to fix.

"Nothing else runs until fixed" — the contract for every other kitchens rule:

* :func:`blocked` is True while the lead sits in a stage whose needs are unmet; a rule that
  acts on a lead calls it first and returns ``[]`` when it is True (the control's own
  move-back is then the only effect of that change);
* :func:`forward` tells stage rules whether a move went forward: the control's move-back is
  a backward move, so stage rules must not redo the previous stage's work on it.

``rules_sos`` needs neither: it acts only in «Не обработан», which has no requirements, and
on the move to «Менеджер назначен», which needs nothing either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.domain.validation import FieldRule, Problem
from app.playbooks.kitchens import CONTROL_RETURNED_TEXT
from app.playbooks.lead_owner import owns
from app.rules import actions as A
from app.rules.model import Rule, RuleContext, on_stage_entered
from app.rules.stage_gate import StageGate

P = "kitchens.lead."
UNPROCESSED, ASSIGNED, QUALIFIED = P + "unprocessed", P + "assigned", P + "qualified"
PROPOSAL, MEASUREMENT, NEXT_CONTACT = P + "proposal", P + "measurement", P + "next_contact"
AGREED, LOST = P + "agreed", P + "lost"
ORDER = (UNPROCESSED, ASSIGNED, QUALIFIED, PROPOSAL, MEASUREMENT)

# What must be filled while the lead is in a stage (before it leaves the stage forward).
REQUIREMENTS: Mapping[str, tuple[FieldRule, ...]] = {
    ASSIGNED: (
        FieldRule("UF_CRM_KT_BUDGET", "Бюджет", "number"),
        FieldRule("UF_CRM_KT_MATERIAL", "Материал фасадов", "choice"),
        FieldRule("UF_CRM_KT_ADDRESS", "Адрес объекта"),
    ),
    QUALIFIED: (
        FieldRule("UF_CRM_KT_HOUSE_TYPE", "Тип дома", "choice"),
        FieldRule("UF_CRM_KT_KITCHEN_TYPE", "Конфигурация кухни", "choice"),
        FieldRule("UF_CRM_KT_COUNTERTOP", "Материал столешницы"),
        FieldRule("UF_CRM_KT_APRON", "Фартук и его материал"),
        FieldRule("UF_CRM_KT_APPLIANCES", "Встроенная техника"),
        FieldRule("UF_CRM_KT_BUYER", "Категория покупателя", "choice"),
        FieldRule("UF_CRM_KT_URGENCY", "Срочность", "choice"),
    ),
    MEASUREMENT: (
        FieldRule("UF_CRM_KT_MEASURE_AT", "Замер: дата и время"),
        FieldRule("UF_CRM_KT_MEASURER", "Замерщик", "choice"),
    ),
}
# Side stages: what entering them needs on top of the lists of the stages before them.
SIDE: Mapping[str, tuple[str | None, tuple[FieldRule, ...]]] = {
    NEXT_CONTACT: (
        ASSIGNED,
        (FieldRule("UF_CRM_KT_NEXT_CONTACT", "Дата следующего контакта"),),
    ),
    AGREED: (QUALIFIED, ()),
    LOST: (None, (FieldRule("UF_CRM_KT_LOST_REASON", "Причина неуспеха"),)),
}
EMAIL = FieldRule("email", "E-mail клиента", "email")
# Stages a lead may only be in with a client e-mail (the catalogue and proposal are mailed).
EMAIL_FROM = frozenset({PROPOSAL, MEASUREMENT, AGREED})
PHONE = FieldRule("phone", "Телефон клиента", "phone")
# the generic mechanism (app.rules.stage_gate) with the kitchens lists
GATE = StageGate(
    "lead",
    P,
    CONTROL_RETURNED_TEXT,
    ORDER,
    REQUIREMENTS,
    SIDE,
    formats=((EMAIL, "EMAIL"), (PHONE, "PHONE")),
    message_key="control_returned_text",
    multi_required=(
        (EMAIL, "EMAIL", EMAIL_FROM, "не заполнено — каталог и КП отправляются по e-mail"),
    ),
)


def entry_rules(stage: str) -> list[FieldRule]:
    """Every field that must be filled for a lead to be in ``stage`` (cumulative)."""
    return GATE.entry_rules(stage)


def own_stage(schema: Any, code: str | None, codes: Any = ()) -> str:
    """The kitchens code of a stage. Stages shared between playbooks (``NEW``, ``CONVERTED``)
    reach rules under the code the merge kept (``metal.lead.converted``); this finds ours."""
    return GATE.own_stage(schema, code, codes)


def problems(
    record: Mapping[str, Any], stage: str | None = None, schema: Any = None
) -> list[Problem]:
    """What keeps ``record`` from being in ``stage`` (default: its current stage)."""
    return GATE.problems(record, stage, schema)


def forward(ctx: RuleContext) -> bool:
    """True unless the change moved the lead back along :data:`ORDER` (a control rollback or
    a manager stepping back): stage work is done on the way forward only."""
    return GATE.forward(ctx)


def blocked(ctx: RuleContext) -> bool:
    """True while the lead is in a stage whose required fields are missing or malformed;
    every other kitchens rule returns no actions then (see the module docstring)."""
    return GATE.blocked(ctx)


def control(ctx: RuleContext) -> list[A.Action]:
    """A lead entering a stage with gaps goes back where it came from; the manager is told."""
    stage = own_stage(ctx.schema, ctx.change.stage_to, ctx.change.stage_to_codes)
    if stage == AGREED and not owns(ctx, "kitchens"):
        return []  # a metal lead converted on the shared CONVERTED stage: not ours to check
    return GATE.control(ctx, first=UNPROCESSED)


CONTROLLED = (*ORDER[1:], *SIDE)

RULES = [Rule("control_stage", "lead", on_stage_entered(*CONTROLLED), control)]
