"""B2B distributor helpers (spec §4): reorder interval, "no deal without a next step", NPS."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app.domain.numbers import ValueProblem, parse_number
from app.domain.text import normalise_text

__all__ = [
    "ReorderSettings",
    "reorder_interval",
    "Activity",
    "NextStepDecision",
    "check_next_step",
    "parse_nps",
    "nps_category",
    "nps_score",
    "NPS_QUESTIONS",
    "parse_survey",
]


@dataclass(frozen=True)
class ReorderSettings:
    """Days between orders by business type (keys compared normalised), and volume bands
    ``(minimum volume, factor)``: bigger buyers turn stock over faster."""

    base_days: Mapping[str, int] = field(
        default_factory=lambda: {
            "розничный магазин": 30,
            "сеть": 14,
            "дистрибьютор": 21,
            "интернет магазин": 21,
            "horeca": 14,
        }
    )
    default_days: int = 30
    volume_bands: tuple[tuple[Decimal, Decimal], ...] = (
        (Decimal(0), Decimal("1.5")),
        (Decimal(50000), Decimal(1)),
        (Decimal(300000), Decimal("0.75")),
    )


def reorder_interval(
    business_type: object, volume: object, settings: ReorderSettings | None = None
) -> tuple[int, str]:
    """(days, Russian explanation). Unknown/empty type → default days; empty or invalid
    volume → factor 1. Never below one day.

    >>> reorder_interval("Сеть", "400 000")[0]  # 14 × 0.75 = 10.5, rounded half-up
    11
    """
    settings = settings or ReorderSettings()
    table = {normalise_text(k): v for k, v in settings.base_days.items()}
    key = normalise_text(business_type)
    base = table.get(key, settings.default_days)
    why = [f"тип «{business_type}»: {base} дн." if key in table else f"по умолчанию {base} дн."]
    factor = Decimal(1)
    try:
        amount = parse_number(volume, "объём заказа")
    except ValueProblem:
        why.append("объём не указан — без поправки")
    else:
        bands = [f for minimum, f in sorted(settings.volume_bands) if amount >= minimum]
        factor = bands[-1] if bands else Decimal(1)
        why.append(f"объём {amount}: ×{factor}")
    days = max(1, int((base * factor).quantize(Decimal(1), ROUND_HALF_UP)))
    return days, "; ".join(why)


@dataclass(frozen=True)
class Activity:
    id: int
    deadline: datetime | None
    completed: bool


@dataclass(frozen=True)
class NextStepDecision:
    ok: bool
    message: str  # Russian, for the responsible ("" when ok)
    follow_up_due: datetime | None  # when ok is False: the default task's deadline
    overdue: tuple[int, ...] = ()  # open activities past their deadline


def check_next_step(
    deal_open: bool,
    activities: Iterable[Activity],
    now: datetime,
    follow_up_in: timedelta = timedelta(days=1),
) -> NextStepDecision:
    """An open deal must have an open activity; otherwise tell the responsible and create a
    default follow-up due ``follow_up_in`` from ``now``. Closed deals need nothing."""
    open_ = [a for a in activities if not a.completed]
    overdue = tuple(sorted(a.id for a in open_ if a.deadline is not None and a.deadline < now))
    if not deal_open or open_:
        return NextStepDecision(True, "", None, overdue)
    return NextStepDecision(
        False,
        "У сделки нет запланированного следующего шага — поставлена задача «Связаться с клиентом»",
        now + follow_up_in,
    )


_NPS = re.compile(r"\s*(\d+(?:[.,]0+)?)\s*(?:(?:/|из)\s*10\s*)?")


def parse_nps(value: object, field_label: str = "оценка") -> int:
    """An NPS answer 0–10: 9, "9", "9/10", "9 из 10", 9.0 → 9; raises ValueProblem."""
    if isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()):
        raise ValueProblem(field_label, "нет оценки", "no score")
    m = _NPS.fullmatch(str(value))
    if not m:
        raise ValueProblem(field_label, f"«{value}» — нужна целая оценка от 0 до 10", "0-10")
    score = int(Decimal(m.group(1).replace(",", ".")))
    if not 0 <= score <= 10:
        raise ValueProblem(field_label, f"«{value}» — оценка должна быть от 0 до 10", "0-10")
    return score


def nps_category(score: int) -> str:
    """promoter (9–10), passive (7–8), detractor (0–6)."""
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def nps_score(scores: Iterable[int]) -> Decimal | None:
    """% promoters − % detractors, one decimal; None without answers."""
    scores = list(scores)
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    value = Decimal(100 * (promoters - detractors)) / len(scores)
    return value.quantize(Decimal("0.1"), ROUND_HALF_UP)


NPS_QUESTIONS = {"delivery": "Доставка", "packaging": "Упаковка", "shelf_life": "Сроки годности"}


def parse_survey(answers: Mapping[str, object]) -> tuple[dict[str, int], list[str]]:
    """Parse the three-question survey: (scores by question, Russian problems). Missing or
    invalid answers are reported and left out; the valid ones are kept."""
    scores, problems = {}, []
    for key, label in NPS_QUESTIONS.items():
        try:
            scores[key] = parse_nps(answers.get(key), label)
        except ValueProblem as exc:
            problems.append(f"«{label}»: {exc.message_ru}")
    return scores, problems
