"""Robot ``abc_score``: the kitchens ABC qualification, placeable in the designer.

Scores the lead's qualification answers exactly as the ``abc_on_answers`` rule does
(``app.playbooks.kitchens.rules_scoring.score_record``): returns the class, the three
coefficients, the total and the expected sum; unless ``write`` is "N" it also renames the
lead, writes the class and the sums and leaves a timeline comment explaining the score.
Missing or odd answers never fail the robot: they lower the score and are listed in the log.
"""

from __future__ import annotations

from app.playbooks.kitchens.rules_scoring import score_record
from app.robots.contract import RobotInput, RobotInputError, RobotResult
from app.robots.spec import PropertySpec, RobotSpec
from app.rules.actions import TimelineComment, UpdateFields

SPEC = RobotSpec(
    code="abc_score",
    names={"ru": "ABC-квалификация лида", "en": "ABC lead qualification"},
    descriptions={
        "ru": "Класс A/B/C, коэффициенты и ожидаемая сумма по ответам квалификации",
        "en": "A/B/C class, coefficients and expected sum from the qualification answers",
    },
    properties=(
        PropertySpec(
            "write",
            {"ru": "Записать в лид", "en": "Write to the lead"},
            "bool",
            default="Y",
        ),
    ),
    returns=(
        PropertySpec("abc_class", {"ru": "Класс", "en": "Class"}, "string"),
        PropertySpec("seriousness", {"ru": "Серьёзность", "en": "Seriousness"}, "double"),
        PropertySpec("finance", {"ru": "Финансы", "en": "Financial capacity"}, "double"),
        PropertySpec("potential", {"ru": "Потенциал", "en": "Purchase potential"}, "double"),
        PropertySpec("total", {"ru": "Итог", "en": "Total"}, "double"),
        PropertySpec("expected_sum", {"ru": "Ожидаемая сумма", "en": "Expected sum"}, "double"),
        PropertySpec("error", {"ru": "Ошибка", "en": "Error"}, "string"),
    ),
    writes=("title", "opportunity", "UF_CRM_KT_ABC", "UF_CRM_KT_EXPECTED_SUM"),
)


def run(inp: RobotInput) -> RobotResult:
    """Score the loaded lead; the actions are the same the rule would take."""
    if inp.entity != "lead" or inp.record is None:
        raise RobotInputError("робот работает только в лидах (leads only)")
    settings = dict(inp.settings.get("kitchens") or {})
    try:
        result, fields, text = score_record(inp.record, settings, inp.naming)
    except (KeyError, ValueError, ArithmeticError) as exc:
        raise RobotInputError(f"модель ABC в настройках неверна (bad abc_model): {exc}") from exc
    returns = {
        "abc_class": result.klass,
        **{k: float(v) for k, v in result.coefficients.items()},
        "total": float(result.total),
        "expected_sum": None if result.expected_sum is None else float(result.expected_sum),
    }
    actions: tuple = ()
    if inp.props.get("write", True) not in (False, "N") and fields:
        rid = inp.document.record_id
        actions = (UpdateFields("lead", rid, fields), TimelineComment("lead", rid, text))
    return RobotResult(returns=returns, actions=actions, log=text)
