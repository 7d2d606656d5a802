"""Lead routing (metal playbook): a criteria table and the «Не обработан» decision.

Stage values are symbolic (``HANDED_TO_MANAGER`` ...); the playbook maps them to the portal's
status ids. Responsibles are user ids (ints).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.domain.numbers import ValueProblem, parse_number
from app.domain.text import normalise_text

__all__ = [
    "UNPROCESSED",
    "DATA_MISSING",
    "DATA_COMPLETE",
    "HANDED_TO_MANAGER",
    "RoutingRule",
    "RoutingFacts",
    "RoutingDecision",
    "rule_from_dict",
    "validate_table",
    "route",
    "SourceKind",
    "UnprocessedLead",
    "decide_unprocessed",
]

UNPROCESSED, DATA_MISSING = "unprocessed", "data_missing"
DATA_COMPLETE, HANDED_TO_MANAGER = "data_complete", "handed_to_manager"


@dataclass(frozen=True)
class RoutingRule:
    """One row: every set condition must hold; ``None`` means "any". Area: min ≤ area < max.

    Texts (regions, sources, positions) compare via :func:`normalise_text`.
    """

    name: str
    target_responsible: int
    target_stage: str = HANDED_TO_MANAGER
    regions: frozenset[str] | None = None
    area_min: Decimal | None = None
    area_max: Decimal | None = None
    sources: frozenset[str] | None = None
    positions: frozenset[str] | None = None
    managers: frozenset[int] | None = None

    @property
    def is_catch_all(self) -> bool:
        conditions = (self.regions, self.area_min, self.area_max, self.sources)
        return all(c is None for c in (*conditions, self.positions, self.managers))


@dataclass(frozen=True)
class RoutingFacts:
    """What the table looks at: region, area, source, current responsible and their position."""

    region: str | None = None
    area_m2: Decimal | None = None
    source: str | None = None
    responsible_id: int | None = None
    responsible_position: str | None = None


@dataclass(frozen=True)
class RoutingDecision:
    """Who takes the lead, which stage it goes to (None = stay), and why (Russian)."""

    responsible_id: int | None
    stage: str | None
    reason: str
    rule: str


def _norm_set(values: Iterable[str] | str | None) -> frozenset[str] | None:
    if isinstance(values, str):
        values = [values]  # a single region typed in settings, not a list of letters
    return None if values is None else frozenset(normalise_text(v) for v in values)


def _ids(name: str, values: object) -> frozenset[int] | None:
    if values is None:
        return None
    items = values if isinstance(values, list | tuple | set | frozenset) else [values]
    try:
        return frozenset(int(v) for v in items)  # type: ignore[call-overload]
    except (TypeError, ValueError) as exc:
        raise ValueProblem(
            name, f"менеджеры: «{values}» — нужны id пользователей", "bad ids"
        ) from exc


def rule_from_dict(row: Mapping[str, object]) -> RoutingRule:
    """Build a rule from settings JSON: ``{"name", "responsible", "stage"?, "regions"?,
    "area_min"?, "area_max"?, "sources"?, "positions"?, "managers"?}``. Raises ValueProblem."""
    name = str(row.get("name") or "").strip() or "без имени"
    try:
        responsible = int(row["responsible"])  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueProblem(name, "не указан ответственный", "responsible missing") from exc

    def num(key: str) -> Decimal | None:
        v = row.get(key)
        return None if v in (None, "") else parse_number(v, f"{name}: {key}")

    managers = row.get("managers")
    return RoutingRule(
        name=name,
        target_responsible=responsible,
        target_stage=str(row.get("stage") or HANDED_TO_MANAGER),
        regions=_norm_set(row.get("regions")),  # type: ignore[arg-type]
        area_min=num("area_min"),
        area_max=num("area_max"),
        sources=_norm_set(row.get("sources")),  # type: ignore[arg-type]
        positions=_norm_set(row.get("positions")),  # type: ignore[arg-type]
        managers=_ids(name, managers),
    )


def validate_table(rules: Sequence[RoutingRule]) -> list[str]:
    """Problems in Russian (empty list = fine): duplicate names, min ≥ max, negative bounds,
    empty condition sets, and rules that can never fire because a catch-all precedes them."""
    problems: list[str] = []
    seen: set[str] = set()
    for i, rule in enumerate(rules, 1):
        label = f"Правило {i} «{rule.name}»"
        if rule.name in seen:
            problems.append(f"{label}: имя повторяется")
        seen.add(rule.name)
        if rule.area_min is not None and rule.area_min < 0:
            problems.append(f"{label}: минимальная площадь отрицательна")
        if rule.area_min is not None and rule.area_max is not None:
            if rule.area_min >= rule.area_max:
                problems.append(f"{label}: площадь «от» должна быть меньше «до»")
        for what, values in (("регионы", rule.regions), ("источники", rule.sources)):
            if values is not None and not values:
                problems.append(f"{label}: пустой список ({what}) — правило не сработает")
        if any(r.is_catch_all for r in rules[: i - 1]):
            problems.append(f"{label}: недостижимо — выше есть правило без условий")
    return problems


def _matches(rule: RoutingRule, f: RoutingFacts) -> bool:
    if rule.regions is not None and normalise_text(f.region) not in rule.regions:
        return False
    if rule.sources is not None and normalise_text(f.source) not in rule.sources:
        return False
    if rule.positions is not None and normalise_text(f.responsible_position) not in rule.positions:
        return False
    if rule.managers is not None and f.responsible_id not in rule.managers:
        return False
    if rule.area_min is not None or rule.area_max is not None:
        if f.area_m2 is None:
            return False
        if rule.area_min is not None and f.area_m2 < rule.area_min:
            return False
        if rule.area_max is not None and f.area_m2 >= rule.area_max:
            return False
    return True


def route(rules: Sequence[RoutingRule], facts: RoutingFacts) -> RoutingDecision | None:
    """First matching rule wins; None when no rule matches (leave the lead alone)."""
    for rule in rules:
        if _matches(rule, facts):
            return RoutingDecision(
                rule.target_responsible,
                rule.target_stage,
                f"Назначен по правилу «{rule.name}»",
                rule.name,
            )
    return None


class SourceKind(enum.Enum):
    SHARED_MAILBOX = "shared_mailbox"
    WEB_FORM = "web_form"
    PERSONAL_CHANNEL = "personal_channel"  # a manager's own mailbox or phone
    OTHER = "other"


@dataclass(frozen=True)
class UnprocessedLead:
    source_kind: SourceKind
    has_min_data: bool
    head_of_sales_id: int
    responsible_id: int | None = None
    client_responsible_id: int | None = None  # set when an existing client was identified


def decide_unprocessed(lead: UnprocessedLead) -> RoutingDecision:
    """Decide a new lead in «Не обработан» (spec §1 lead rule 1); first applicable wins:

    1. existing client identified → that client's responsible, HANDED_TO_MANAGER;
    2. web form with minimum data → head of sales, DATA_COMPLETE;
       web form without it → head of sales, DATA_MISSING (our reading: the stage exists for it);
    3. shared mailbox (client unknown) → head of sales, stays UNPROCESSED (stage None);
    4. responsible set and not the head of sales → keep them, HANDED_TO_MANAGER;
    5. otherwise → head of sales, stage unchanged.
    """
    hos = lead.head_of_sales_id
    if lead.client_responsible_id is not None:
        return RoutingDecision(
            lead.client_responsible_id,
            HANDED_TO_MANAGER,
            "Повторное обращение: передан ответственному за клиента",
            "existing_client",
        )
    if lead.source_kind is SourceKind.WEB_FORM:
        if lead.has_min_data:
            return RoutingDecision(
                hos, DATA_COMPLETE, "Лид с формы, данных достаточно: РОП", "web_form_complete"
            )
        return RoutingDecision(
            hos, DATA_MISSING, "Лид с формы, не хватает данных: РОП", "web_form_incomplete"
        )
    if lead.source_kind is SourceKind.SHARED_MAILBOX:
        return RoutingDecision(hos, None, "Общая почта, клиент не найден: РОП", "shared_mailbox")
    if lead.responsible_id is not None and lead.responsible_id != hos:
        return RoutingDecision(
            lead.responsible_id,
            HANDED_TO_MANAGER,
            "Лид пришёл менеджеру напрямую: передан менеджеру",
            "personal_channel",
        )
    return RoutingDecision(hos, None, "Ответственный — РОП", "default")
