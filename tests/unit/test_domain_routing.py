from decimal import Decimal

import pytest

from app.domain.numbers import ValueProblem
from app.domain.routing import (
    DATA_COMPLETE,
    DATA_MISSING,
    HANDED_TO_MANAGER,
    RoutingFacts,
    RoutingRule,
    SourceKind,
    UnprocessedLead,
    decide_unprocessed,
    route,
    rule_from_dict,
    validate_table,
)

HOS = 1  # head of sales


def table():
    return [
        rule_from_dict(
            {
                "name": "Казань крупные",
                "responsible": 10,
                "regions": ["Казань"],
                "area_min": "1 000",
                "area_max": None,
            }
        ),
        rule_from_dict({"name": "Казань", "responsible": 11, "regions": ["казань", "Татарстан"]}),
        rule_from_dict({"name": "Иванов", "responsible": 12, "managers": [7], "stage": "custom"}),
        rule_from_dict({"name": "Стажёры", "responsible": 13, "positions": ["Стажёр"]}),
        rule_from_dict({"name": "Средние", "responsible": 14, "area_min": 100, "area_max": 1000}),
    ]


@pytest.mark.parametrize(
    "facts, rule, responsible, stage",
    [
        (
            RoutingFacts(region="КАЗАНЬ ", area_m2=Decimal(1000)),
            "Казань крупные",
            10,
            HANDED_TO_MANAGER,
        ),
        (RoutingFacts(region="Казань", area_m2=Decimal("999.99")), "Казань", 11, HANDED_TO_MANAGER),
        (RoutingFacts(region="Казань"), "Казань", 11, HANDED_TO_MANAGER),
        (RoutingFacts(region="Татарстан"), "Казань", 11, HANDED_TO_MANAGER),
        (RoutingFacts(responsible_id=7, area_m2=Decimal(500)), "Иванов", 12, "custom"),
        (RoutingFacts(responsible_position="стажер"), "Стажёры", 13, HANDED_TO_MANAGER),
        (RoutingFacts(area_m2=Decimal(100)), "Средние", 14, HANDED_TO_MANAGER),
    ],
)
def test_first_matching_rule_wins(facts, rule, responsible, stage):
    decision = route(table(), facts)
    assert (decision.rule, decision.responsible_id, decision.stage) == (rule, responsible, stage)
    assert rule in decision.reason


@pytest.mark.parametrize(
    "facts", [RoutingFacts(), RoutingFacts(area_m2=Decimal(1000)), RoutingFacts(region="Москва")]
)
def test_no_rule_matches(facts):
    assert route(table(), facts) is None


def test_valid_table_has_no_problems():
    assert validate_table(table()) == []


def test_validate_table_reports_each_problem():
    rules = [
        RoutingRule("a", 1, area_min=Decimal(10), area_max=Decimal(10)),
        RoutingRule("a", 2, regions=frozenset()),
        RoutingRule("всё", 3),
        RoutingRule("после", 4, area_min=Decimal(-1)),
    ]
    problems = validate_table(rules)
    assert any("Правило 1" in p and "меньше" in p for p in problems)
    assert any("Правило 2" in p and "повторяется" in p for p in problems)
    assert any("Правило 2" in p and "пустой список" in p for p in problems)
    assert any("Правило 4" in p and "недостижимо" in p for p in problems)
    assert any("Правило 4" in p and "отрицательна" in p for p in problems)
    assert not any("Правило 3" in p for p in problems)


def test_rule_from_dict_errors():
    with pytest.raises(ValueProblem):
        rule_from_dict({"name": "x"})
    with pytest.raises(ValueProblem):
        rule_from_dict({"name": "x", "responsible": 1, "area_min": "много"})


def lead(kind, min_data=False, responsible=None, client=None):
    return UnprocessedLead(kind, min_data, HOS, responsible, client)


@pytest.mark.parametrize(
    "facts, responsible, stage, rule",
    [
        (lead(SourceKind.SHARED_MAILBOX, responsible=5), HOS, None, "shared_mailbox"),
        (
            lead(SourceKind.SHARED_MAILBOX, True, 5, client=9),
            9,
            HANDED_TO_MANAGER,
            "existing_client",
        ),
        (lead(SourceKind.WEB_FORM, True, 5), HOS, DATA_COMPLETE, "web_form_complete"),
        (lead(SourceKind.WEB_FORM, False), HOS, DATA_MISSING, "web_form_incomplete"),
        (lead(SourceKind.WEB_FORM, True, client=9), 9, HANDED_TO_MANAGER, "existing_client"),
        (
            lead(SourceKind.PERSONAL_CHANNEL, responsible=5),
            5,
            HANDED_TO_MANAGER,
            "personal_channel",
        ),
        (lead(SourceKind.OTHER, responsible=5), 5, HANDED_TO_MANAGER, "personal_channel"),
        (lead(SourceKind.PERSONAL_CHANNEL, responsible=HOS), HOS, None, "default"),
        (lead(SourceKind.OTHER), HOS, None, "default"),
        (lead(SourceKind.OTHER, client=HOS), HOS, HANDED_TO_MANAGER, "existing_client"),
    ],
)
def test_unprocessed_decision(facts, responsible, stage, rule):
    decision = decide_unprocessed(facts)
    assert (decision.responsible_id, decision.stage, decision.rule) == (responsible, stage, rule)
    assert decision.reason


def test_unprocessed_decision_is_total():
    # Every combination yields a decision with a responsible: no lead is left without an owner.
    for kind in SourceKind:
        for min_data in (False, True):
            for responsible in (None, HOS, 5):
                for client in (None, 9):
                    d = decide_unprocessed(lead(kind, min_data, responsible, client))
                    assert d.responsible_id in {HOS, 5, 9}
                    if client is not None:
                        assert d.responsible_id == 9


def test_rule_from_dict_accepts_single_values():
    rule = rule_from_dict({"name": "x", "responsible": "5", "regions": "Казань", "managers": 7})
    assert rule.regions == frozenset({"казань"})
    assert rule.managers == frozenset({7})
    assert route([rule], RoutingFacts(region="казань", responsible_id=7)).responsible_id == 5
    with pytest.raises(ValueProblem, match="id пользователей"):
        rule_from_dict({"name": "x", "responsible": 1, "managers": ["Иванов"]})
