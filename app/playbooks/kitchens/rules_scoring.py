"""Kitchens ABC qualification as an event rule (spec §3 rule 6); the robot shares it.

When a qualification answer changes, the lead is scored (``app.domain.scoring``) and:

* its title becomes the ``abc_title_template`` setting rendered — default
  ``{class} {coefficients} · {kitchen_type} · {client}`` → ``A (С0,72 Ф0,60 П0,55) · Угловая ·
  Иван Петров``;
* the class goes to ``UF_CRM_KT_ABC`` and the expected sum to ``UF_CRM_KT_EXPECTED_SUM`` and
  the lead's own ``opportunity``;
* a timeline comment explains the score: which answers moved which coefficient, and what was
  missing or not understood.

Only what differs from the card is written, so our own write (title, class, sum — not
answers) does not score again, and a replay writes nothing new.

The model: ``abc_model`` (settings JSON in ``model_from_dict`` form; empty = the default
model), then ``abc_weights`` / ``abc_thresholds`` override its weights and thresholds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from app.domain.scoring import ScoreResult, score
from app.domain.scoring_default import DEFAULT_MODEL
from app.domain.scoring_model import COEFFICIENT_LABELS, ScoringModel, model_from_dict
from app.playbooks.kitchens.rules_control import blocked
from app.robots.labels import enum_labels
from app.rules import actions as A
from app.rules.model import Rule, RuleContext, on_created, on_field_changed

# model question → lead field
ANSWERS = {
    "budget": "UF_CRM_KT_BUDGET",
    "material": "UF_CRM_KT_MATERIAL",
    "house_type": "UF_CRM_KT_HOUSE_TYPE",
    "kitchen_type": "UF_CRM_KT_KITCHEN_TYPE",
    "countertop": "UF_CRM_KT_COUNTERTOP",
    "apron": "UF_CRM_KT_APRON",
    "appliances": "UF_CRM_KT_APPLIANCES",
    "buyer_category": "UF_CRM_KT_BUYER",
    "urgency": "UF_CRM_KT_URGENCY",
}
ABC_FIELD, SUM_FIELD = "UF_CRM_KT_ABC", "UF_CRM_KT_EXPECTED_SUM"
DEFAULT_TITLE = "{class} {coefficients} · {kitchen_type} · {client}"


def model_for(settings: Mapping[str, Any]) -> ScoringModel:
    """The portal's model; raises ValueError/KeyError for a malformed ``abc_model``."""
    data = settings.get("abc_model") or {}
    model = model_from_dict(data) if data else DEFAULT_MODEL
    weights = settings.get("abc_weights") or {}
    if weights:
        model = replace(model, weights={k: Decimal(str(v)) for k, v in weights.items()})
    thresholds = settings.get("abc_thresholds") or {}
    if thresholds:
        model = model.with_thresholds(
            Decimal(str(thresholds.get("A", model.threshold_a))),
            Decimal(str(thresholds.get("B", model.threshold_b))),
        )
    return model


def answers_of(record: Mapping[str, Any], labels: Mapping[str, Mapping[str, str]]) -> dict:
    """Model question → the card's answer, list fields as their labels (ids the schema map
    does not know stay as they are and become "unknown option" notes)."""
    out: dict[str, Any] = {}
    for question, field in ANSWERS.items():
        value = record.get(field)
        names = labels.get(field) or {}
        if isinstance(value, list):
            value = [names.get(str(v), v) for v in value]
        elif value not in (None, ""):
            value = names.get(str(value), value)
        out[question] = value
    return out


def _client(record: Mapping[str, Any]) -> str:
    name = " ".join(str(record.get(k) or "").strip() for k in ("name", "lastName")).strip()
    return name or str(record.get("companyTitle") or "").strip()


def render_title(template: str, result: ScoreResult, answers: Mapping, record: Mapping) -> str:
    """Fill ``{class}``, ``{coefficients}``, ``{total}``, ``{kitchen_type}`` (any question),
    ``{client}``; separators around empty parts are dropped."""
    values = {
        "class": result.klass,
        "coefficients": result.short()[2:],
        "total": str(result.total).replace(".", ","),
        "client": _client(record),
        **{k: "" if v in (None, "") else str(v) for k, v in answers.items()},
    }
    text = template
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    parts = [p.strip() for p in text.split("·")]
    return " · ".join(p for p in parts if p)


def explain(result: ScoreResult) -> str:
    """The timeline comment: class, coefficients, what moved them, what was missing."""
    lines = [
        f"ABC-квалификация: класс {result.klass}, итог {result.total}",
        "Коэффициенты: "
        + ", ".join(f"{COEFFICIENT_LABELS[k]} {v}" for k, v in result.coefficients.items()),
    ]
    if result.expected_sum is not None:
        lines.append(f"Ожидаемая сумма: {result.expected_sum:,.0f}".replace(",", " "))
    for c in result.contributions:
        lines.append(f"+{c.points} {COEFFICIENT_LABELS[c.coefficient]}: {c.question} = {c.answer}")
    lines.extend(f"! {note}" for note in result.notes)
    return "\n".join(lines)


def scored_fields(record: Mapping[str, Any], result: ScoreResult, title: str, schema: Any) -> dict:
    """The fields to write: only those that differ from the card."""
    want: dict[str, Any] = {"title": title}
    try:
        want[ABC_FIELD] = int(schema.enum_id(ABC_FIELD, result.klass, entity="lead"))
    except (AttributeError, KeyError, TypeError, ValueError):
        want[ABC_FIELD] = result.klass  # no schema map (tests, not installed): the code
    if result.expected_sum is not None:
        want[SUM_FIELD] = float(result.expected_sum)
        want["opportunity"] = float(result.expected_sum)

    def same(a: Any, b: Any) -> bool:
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return str(a) == str(b)

    return {k: v for k, v in want.items() if not same(record.get(k), v)}


def score_record(
    record: Mapping[str, Any], settings: Mapping[str, Any], schema: Any
) -> tuple[ScoreResult, dict, str]:
    """(result, fields to write, explanation) for one lead snapshot — the rule and the
    ``abc_score`` robot both use it."""
    labels = enum_labels(schema, ("kitchens",), "lead")
    answers = answers_of(record, labels)
    result = score(answers, model_for(settings))
    template = str(settings.get("abc_title_template") or DEFAULT_TITLE)
    title = render_title(template, result, answers, record)
    return result, scored_fields(record, result, title, schema), explain(result)


def on_answers(ctx: RuleContext) -> list[A.Action]:
    record = ctx.record or {}
    if blocked(ctx) or not any(record.get(f) not in (None, "", []) for f in ANSWERS.values()):
        return []
    _result, fields, text = score_record(record, ctx.settings, ctx.schema)
    if not fields:
        return []
    rid = ctx.change.record_id
    return [A.UpdateFields("lead", rid, fields), A.TimelineComment("lead", rid, text)]


RULES = [
    Rule("abc_on_answers", "lead", on_field_changed(*ANSWERS.values()), on_answers),
    Rule("abc_on_created", "lead", on_created(), on_answers),
]
