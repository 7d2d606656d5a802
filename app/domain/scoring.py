"""ABC qualification of kitchen leads: score answers, explain, calibrate thresholds.

``answers`` map question keys (budget, material, house_type, kitchen_type, countertop, apron,
appliances, buyer_category, urgency) to what the card holds: option labels (matched case-,
space- and ё-insensitively), numbers or number strings ("150 000 руб."), lists (the best
recognised option counts), None. Odd values become notes, never exceptions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from app.domain.numbers import ValueProblem, parse_money
from app.domain.scoring_default import DEFAULT_MODEL
from app.domain.scoring_model import COEFFICIENTS, Option, Question, ScoringModel

__all__ = [
    "Contribution",
    "ScoreResult",
    "score",
    "classify",
    "ClassStats",
    "Calibration",
    "calibrate",
]

_TWO = Decimal("0.01")


@dataclass(frozen=True)
class Contribution:
    question: str
    answer: str  # the option label or band that counted
    coefficient: str
    points: Decimal


@dataclass(frozen=True)
class ScoreResult:
    klass: str  # "A" | "B" | "C"
    coefficients: Mapping[str, Decimal]  # 0…1, two decimals
    total: Decimal  # weighted mean of the coefficients, 0…1
    expected_sum: Decimal | None
    contributions: tuple[Contribution, ...]
    notes: tuple[str, ...]  # Russian: missing answers, unknown options, bad numbers

    def short(self) -> str:
        """Compact form for titles: "A (С0,72 Ф0,60 П0,55)"."""
        c = self.coefficients
        parts = [
            f"{letter}{str(c[k]).replace('.', ',')}"
            for letter, k in zip("СФП", COEFFICIENTS, strict=True)
        ]
        return f"{self.klass} ({' '.join(parts)})"


def classify(total: Decimal, model: ScoringModel) -> str:
    """A when total ≥ threshold_a, B when ≥ threshold_b, else C."""
    if total >= model.threshold_a:
        return "A"
    return "B" if total >= model.threshold_b else "C"


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _pick(q: Question, value: object, notes: list[str]) -> Option | None:
    if isinstance(value, list | tuple | set | frozenset):
        found = [o for o in (_pick(q, v, notes) for v in value) if o is not None]
        return max(found, key=lambda o: (sum(o.points.values()), o.price), default=None)
    if q.kind == "number":
        try:
            number = parse_money(value, q.label)
        except ValueProblem as exc:
            notes.append(f"«{q.label}»: {exc.message_ru} — не учтено")
            return None
        return q.band(number)
    option = q.find(str(value))
    if option is None:
        notes.append(f"«{q.label}»: неизвестный вариант «{value}» — не учтён")
    return option


def score(answers: Mapping[str, object], model: ScoringModel = DEFAULT_MODEL) -> ScoreResult:
    """Score one lead's answers; never raises for odd answers.

    Missing answers give no points (and a note), so an unqualified lead drifts to C.
    Expected sum: the budget when it parses, else the sum of chosen options' prices
    (None when that is zero).
    """
    notes: list[str] = []
    contributions: list[Contribution] = []
    totals = {c: Decimal(0) for c in COEFFICIENTS}
    price = Decimal(0)
    budget: Decimal | None = None
    for q in model.questions:
        value = answers.get(q.key)
        if _empty(value):
            notes.append(f"«{q.label}»: нет ответа")
            continue
        option = _pick(q, value, notes)
        if option is None:
            continue
        if q.key == model.budget_question and q.kind == "number":
            budget = parse_money(value, q.label) if not isinstance(value, list | tuple) else None
        price += option.price
        for c in COEFFICIENTS:
            pts = option.points.get(c, Decimal(0))
            if pts:
                totals[c] += pts
                contributions.append(Contribution(q.key, option.label, c, pts))
    unknown = sorted(set(answers) - {q.key for q in model.questions})
    if unknown:
        notes.append(f"Вопросы вне модели не учтены: {', '.join(unknown)}")
    coefficients = {}
    for c in COEFFICIENTS:
        top = model.max_points(c)
        coefficients[c] = (totals[c] / top).quantize(_TWO, ROUND_HALF_UP) if top else Decimal(0)
    weight_sum = sum((model.weights.get(c, Decimal(0)) for c in COEFFICIENTS), Decimal(0))
    raw = sum(
        (model.weights.get(c, Decimal(0)) * coefficients[c] for c in COEFFICIENTS), Decimal(0)
    )
    total = (raw / weight_sum).quantize(_TWO, ROUND_HALF_UP) if weight_sum else Decimal(0)
    expected = budget if budget is not None else (price or None)
    return ScoreResult(
        classify(total, model), coefficients, total, expected, tuple(contributions), tuple(notes)
    )


@dataclass(frozen=True)
class ClassStats:
    klass: str
    count: int
    won: int

    @property
    def win_rate(self) -> Decimal | None:
        return (
            None
            if not self.count
            else (Decimal(self.won) / self.count).quantize(_TWO, ROUND_HALF_UP)
        )


@dataclass(frozen=True)
class Calibration:
    current: tuple[ClassStats, ...]  # A, B, C under the model's thresholds
    suggested_a: Decimal | None
    suggested_b: Decimal | None
    suggested: tuple[ClassStats, ...]  # A, B, C under the suggested thresholds (empty if none)
    notes: tuple[str, ...]


def _stats(rows: list[tuple[Decimal, bool]], a: Decimal, b: Decimal) -> tuple[ClassStats, ...]:
    out = []
    for k, keep in (("A", lambda t: t >= a), ("B", lambda t: b <= t < a), ("C", lambda t: t < b)):
        chosen = [won for t, won in rows if keep(t)]
        out.append(ClassStats(k, len(chosen), sum(chosen)))
    return tuple(out)


def _separation(stats: tuple[ClassStats, ...], overall: Decimal) -> Decimal:
    # Between-class sum of squares of win rates: large when classes differ strongly.
    return sum(((Decimal(s.won) / s.count - overall) ** 2 * s.count for s in stats), Decimal(0))


def calibrate(
    closed: Iterable[tuple[Mapping[str, object], bool]],
    model: ScoringModel = DEFAULT_MODEL,
    *,
    min_class_size: int = 1,
) -> Calibration:
    """Report how the model's classes separate won from lost leads and suggest thresholds.

    Candidate cut points are the observed totals; the pair (B < A) maximising the between-class
    spread of win rates is suggested, among pairs giving every class ≥ ``min_class_size``
    leads and win rates not increasing from A to C. The model is not touched; apply a
    suggestion with ``model.with_thresholds(a, b)``.
    """
    rows = [(score(answers, model).total, bool(won)) for answers, won in closed]
    notes: list[str] = []
    current = _stats(rows, model.threshold_a, model.threshold_b)
    if not rows:
        return Calibration(current, None, None, (), ("Нет закрытых лидов для калибровки",))
    overall = Decimal(sum(w for _, w in rows)) / len(rows)
    cuts = sorted({t for t, _ in rows})
    # Prefix sums over distinct totals make each candidate pair O(1): totals are two-decimal
    # numbers in 0…1, so there are at most 101 cut points whatever the number of leads.
    n_pre, w_pre = [0], [0]
    for t in cuts:
        n_pre.append(n_pre[-1] + sum(1 for x, _ in rows if x == t))
        w_pre.append(w_pre[-1] + sum(1 for x, won in rows if x == t and won))
    end = len(cuts)
    best: tuple[Decimal, Decimal, Decimal] | None = None
    for ib in range(1, end):
        for ia in range(ib + 1, end):
            spans = ((ia, end), (ib, ia), (0, ib))  # A, B, C as index ranges of cuts
            stats = tuple(
                ClassStats(k, n_pre[hi] - n_pre[lo], w_pre[hi] - w_pre[lo])
                for k, (lo, hi) in zip("ABC", spans, strict=True)
            )
            if any(s.count < max(1, min_class_size) for s in stats):
                continue
            rates = [Decimal(s.won) / s.count for s in stats]
            if not rates[0] >= rates[1] >= rates[2]:
                continue
            sep = _separation(stats, overall)
            if best is None or sep > best[0]:
                best = (sep, cuts[ia], cuts[ib])
    if best is None:
        notes.append("Недостаточно данных, чтобы предложить пороги")
        return Calibration(current, None, None, (), tuple(notes))
    _, a, b = best
    return Calibration(current, a, b, _stats(rows, a, b), tuple(notes))
