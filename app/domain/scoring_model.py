"""The kitchens ABC qualification model as data (spec §3 rule 6, seed 002).

Each answer adds points to three coefficients — seriousness of intent («серьёзность
намерений»), financial capacity («материальное обеспечение») and purchase potential
(«потенциал объёма покупки»). A coefficient is its points divided by the most points the
model can give it (0…1); the total is their weighted mean; the class is A/B/C by thresholds.
Options may carry a ``price`` that builds the expected purchase sum when no budget is given.

The default model (:mod:`app.domain.scoring_default`) is our reading of the seed, which
publishes no numbers; portals override it through settings in the :func:`model_from_dict`
format and check it with :func:`validate_model`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from app.domain.text import mentions, normalise_text

__all__ = [
    "COEFFICIENTS",
    "COEFFICIENT_LABELS",
    "Option",
    "Question",
    "ScoringModel",
    "model_from_dict",
    "validate_model",
]

COEFFICIENTS = ("seriousness", "finance", "potential")
COEFFICIENT_LABELS = {"seriousness": "серьёзность", "finance": "финансы", "potential": "потенциал"}


@dataclass(frozen=True)
class Option:
    """A choice option or a number band; ``minimum`` is set for bands only."""

    label: str
    points: Mapping[str, Decimal]
    price: Decimal = Decimal(0)
    minimum: Decimal | None = None


@dataclass(frozen=True)
class Question:
    """``kind`` "choice" (options by label) or "number" (bands: highest minimum ≤ value)."""

    key: str
    label: str
    kind: str
    options: tuple[Option, ...]

    def find(self, answer: str) -> Option | None:
        """The option named exactly (case, spaces, punctuation aside); else, for a free-text
        answer («фартук из стекла, скинали»), the option whose every word the answer
        mentions — the one with the most such words, then the most points."""
        wanted = normalise_text(answer)
        exact = next((o for o in self.options if normalise_text(o.label) == wanted), None)
        if exact is not None or self.kind == "number":
            return exact
        scored = [(mentions(answer, o.label), o) for o in self.options]
        best = max(
            ((n, sum(o.points.values()), o) for n, o in scored if n),
            key=lambda t: (t[0], t[1]),
            default=None,
        )
        return best[2] if best else None

    def band(self, value: Decimal) -> Option | None:
        fitting = [o for o in self.options if o.minimum is not None and o.minimum <= value]
        return max(fitting, key=lambda o: o.minimum, default=None)  # type: ignore[arg-type,return-value]


@dataclass(frozen=True)
class ScoringModel:
    questions: tuple[Question, ...]
    weights: Mapping[str, Decimal]
    threshold_a: Decimal
    threshold_b: Decimal
    budget_question: str | None = "budget"  # its number is the expected sum when answered

    def with_thresholds(self, a: Decimal, b: Decimal) -> ScoringModel:
        """A copy with other class thresholds (models are never mutated)."""
        return replace(self, threshold_a=a, threshold_b=b)

    def max_points(self, coefficient: str) -> Decimal:
        """Most points any set of answers can give ``coefficient`` (the normaliser)."""
        return sum(
            (
                max((o.points.get(coefficient, Decimal(0)) for o in q.options), default=Decimal(0))
                for q in self.questions
            ),
            Decimal(0),
        )


def _dec(value: object) -> Decimal:
    return Decimal(str(value))


def _option(label: str, data: Mapping[str, object], minimum: object = None) -> Option:
    points = {k: _dec(v) for k, v in dict(data.get("points") or {}).items()}  # type: ignore[call-overload]
    return Option(
        label,
        points,
        _dec(data.get("price", 0)),
        None if minimum is None else _dec(minimum),
    )


def model_from_dict(data: Mapping[str, object]) -> ScoringModel:
    """Build a model from settings JSON (see DEFAULT_MODEL_DATA for the shape).

    Raises ValueError/KeyError/decimal errors on malformed structure; semantic problems are
    reported by :func:`validate_model`.
    """
    questions = []
    for key, q in dict(data["questions"]).items():  # type: ignore[call-overload]
        kind = q.get("kind", "choice")
        if kind == "number":
            options = tuple(_option(f"от {m}", o, m) for m, o in q["bands"])
        else:
            options = tuple(_option(label, o) for label, o in q["options"].items())
        questions.append(Question(key, q.get("label", key), kind, options))
    thresholds = dict(data["thresholds"])  # type: ignore[call-overload]
    return ScoringModel(
        tuple(questions),
        {k: _dec(v) for k, v in dict(data["weights"]).items()},  # type: ignore[call-overload]
        _dec(thresholds["A"]),
        _dec(thresholds["B"]),
        data.get("budget_question", "budget"),  # type: ignore[arg-type]
    )


def validate_model(model: ScoringModel) -> list[str]:
    """Russian problem texts; an empty list means the model is usable."""
    problems = []
    if not Decimal(0) < model.threshold_b < model.threshold_a <= Decimal(1):
        problems.append("Пороги: нужно 0 < B < A ≤ 1")
    if set(model.weights) - set(COEFFICIENTS):
        problems.append(
            f"Веса: неизвестные коэффициенты {sorted(set(model.weights) - set(COEFFICIENTS))}"
        )
    if any(w < 0 for w in model.weights.values()) or not any(model.weights.values()):
        problems.append("Веса: не могут быть отрицательными или все нулевыми")
    keys = [q.key for q in model.questions]
    if len(set(keys)) != len(keys):
        problems.append("Вопросы: ключи повторяются")
    for q in model.questions:
        if q.kind not in ("choice", "number"):
            problems.append(f"«{q.label}»: неизвестный тип {q.kind!r}")
        if not q.options:
            problems.append(f"«{q.label}»: нет вариантов ответа")
        labels = [normalise_text(o.label) for o in q.options]
        if len(set(labels)) != len(labels):
            problems.append(f"«{q.label}»: варианты повторяются")
        for o in q.options:
            bad = set(o.points) - set(COEFFICIENTS)
            if bad:
                problems.append(
                    f"«{q.label}» / «{o.label}»: неизвестные коэффициенты {sorted(bad)}"
                )
            if any(p < 0 for p in o.points.values()) or o.price < 0:
                problems.append(f"«{q.label}» / «{o.label}»: отрицательные баллы или цена")
    for c in COEFFICIENTS:
        if model.weights.get(c, Decimal(0)) > 0 and model.max_points(c) == 0:
            problems.append(
                f"Коэффициент «{COEFFICIENT_LABELS[c]}» не получает баллов ни от одного ответа"
            )
    if model.budget_question and model.budget_question not in keys:
        problems.append(f"Вопрос бюджета «{model.budget_question}» не найден")
    return problems
