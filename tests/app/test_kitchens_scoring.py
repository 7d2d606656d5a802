"""Kitchens ABC scoring: hand-computed examples through the rule and the abc_score robot.

Default model maxima (app.domain.scoring_default): seriousness 14, finance 21, potential 23.
"""

from __future__ import annotations

from decimal import Decimal

from app.playbooks.kitchens import rules_scoring
from app.robots import abc_score
from app.robots.contract import RobotInput
from app.robots.documents import Document
from app.rules import actions as A
from app.rules.model import FIELD_CHANGED
from tests.app.test_kitchens_support import NOW, SCHEMA, ctx, of, opt

FULL = {
    "stageId": "kitchens.lead.qualified",
    "assignedById": 5,
    "name": "Иван",
    "lastName": "Петров",
    "title": "Лид с сайта",
    "UF_CRM_KT_BUDGET": 600000,
    "UF_CRM_KT_MATERIAL": opt("UF_CRM_KT_MATERIAL", "wood"),  # Массив: f3 p3
    "UF_CRM_KT_ADDRESS": "Казань, ул. Баумана, 1",
    "UF_CRM_KT_HOUSE_TYPE": opt("UF_CRM_KT_HOUSE_TYPE", "new"),  # Новостройка: s3 p2
    "UF_CRM_KT_KITCHEN_TYPE": opt("UF_CRM_KT_KITCHEN_TYPE", "corner"),  # Угловая: p2
    "UF_CRM_KT_COUNTERTOP": "Кварц",  # f3 p2
    "UF_CRM_KT_APRON": "стекло",  # f1 p2 (case-insensitive)
    "UF_CRM_KT_APPLIANCES": "Наша, полностью",  # s2 f2 p3
    "UF_CRM_KT_BUYER": opt("UF_CRM_KT_BUYER", "self"),  # Для себя: s2 p1
    "UF_CRM_KT_URGENCY": opt("UF_CRM_KT_URGENCY", "now"),  # Срочно, до месяца: s3
}


def answers_changed(record, **settings):
    return ctx(
        record,
        kind=FIELD_CHANGED,
        fields_changed=frozenset({"UF_CRM_KT_BUDGET"}),
        settings=settings,
    )


def test_full_answers_score_class_a_with_hand_computed_coefficients():
    # budget 600 000 → band 500 000: s3 f4 p3.  s = 3+3+2+2+3 = 13/14 → 0.93;
    # f = 4+3+3+1+2 = 13/21 → 0.62;  p = 3+3+2+2+2+2+3+1 = 18/23 → 0.78;
    # total (0.93+0.62+0.78)/3 = 0.7767 → 0.78 ≥ 0.7 (settings' A threshold) → A.
    out = rules_scoring.on_answers(answers_changed(FULL))
    update = of(out, A.UpdateFields)[0]
    assert update.fields["title"] == "A (С0,93 Ф0,62 П0,78) · Угловая · Иван Петров"
    assert update.fields["UF_CRM_KT_ABC"] == opt("UF_CRM_KT_ABC", "A")
    assert update.fields["UF_CRM_KT_EXPECTED_SUM"] == 600000.0
    assert update.fields["opportunity"] == 600000.0
    comment = of(out, A.TimelineComment)[0].text
    assert "класс A" in comment and "итог 0.78" in comment
    assert "kitchen_type = Угловая" in comment and "urgency = Срочно, до месяца" in comment


def test_only_a_budget_string_gives_c_and_lists_every_missing_answer():
    # "150 000 руб." → band 100 000: s2 f2 p1 → 2/14=0.14, 2/21=0.10, 1/23=0.04;
    # total 0.28/3 = 0.09 → C; the budget is the expected sum.
    record = {
        "stageId": "kitchens.lead.assigned",
        "UF_CRM_KT_BUDGET": "150 000 руб.",
        "name": "Оля",
    }
    result, fields, text = rules_scoring.score_record(record, {}, SCHEMA)
    assert result.klass == "C"
    assert result.coefficients == {
        "seriousness": Decimal("0.14"),
        "finance": Decimal("0.10"),
        "potential": Decimal("0.04"),
    }
    assert fields["title"] == "C (С0,14 Ф0,10 П0,04) · Оля"  # empty kitchen type dropped
    assert fields["UF_CRM_KT_EXPECTED_SUM"] == 150000.0
    assert text.count("нет ответа") == 8


def test_odd_values_become_notes_and_do_not_count():
    record = {
        **FULL,
        "UF_CRM_KT_BUDGET": "много",
        "UF_CRM_KT_KITCHEN_TYPE": 99999,  # an option id the schema does not know
        "UF_CRM_KT_COUNTERTOP": "Мрамор с Марса",
    }
    result, fields, text = rules_scoring.score_record(record, {}, SCHEMA)
    assert "неизвестный вариант «99999»" in text and "Мрамор с Марса" in text
    assert "Бюджет" in text
    # Without budget, kitchen type and countertop: s = 3+2+2+3 = 10/14 → 0.71;
    # f = 3+1+2 = 6/21 → 0.29; p = 3+2+2+3+1 = 11/23 → 0.48; total 1.48/3 → 0.49 → B.
    assert result.klass == "B" and result.total == Decimal("0.49")
    # no budget and no priced option chosen except «Наша, полностью» (200 000)
    assert fields["UF_CRM_KT_EXPECTED_SUM"] == 200000.0


def test_thresholds_and_title_template_come_from_settings():
    settings = {"abc_thresholds": {"A": 0.8, "B": 0.5}, "abc_title_template": "{class}/{client}"}
    out = rules_scoring.on_answers(answers_changed(FULL, **settings))
    assert of(out, A.UpdateFields)[0].fields["title"] == "B/Иван Петров"


def test_a_card_already_scored_is_not_written_again():
    _result, fields, _ = rules_scoring.score_record(FULL, {}, SCHEMA)
    scored = {**FULL, **fields}
    assert rules_scoring.on_answers(answers_changed(scored)) == []


def test_a_lead_without_any_answer_is_not_scored():
    assert rules_scoring.on_answers(answers_changed({"stageId": "kitchens.lead.assigned"})) == []


def robot_input(record, props=None):
    return RobotInput(
        code="abc_score",
        document=Document(1, 7, "LEAD_7"),
        entity="lead",
        props=props or {},
        record=record,
        related={},
        extra={},
        settings={},
        playbooks=("kitchens",),
        naming=SCHEMA,
        now=NOW,
    )


def test_robot_returns_class_coefficients_and_sum_and_writes_like_the_rule():
    res = abc_score.run(robot_input(FULL))
    assert res.returns["abc_class"] == "A"  # default model's own A threshold 0.65
    assert res.returns["finance"] == 0.62 and res.returns["expected_sum"] == 600000.0
    assert of(res.actions, A.UpdateFields)[0].fields["UF_CRM_KT_ABC"] == opt("UF_CRM_KT_ABC", "A")


def test_robot_with_write_off_changes_nothing():
    res = abc_score.run(robot_input(FULL, {"write": False}))
    assert res.actions == () and res.returns["abc_class"] == "A"
