from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.domain.b2b import (
    Activity,
    ReorderSettings,
    check_next_step,
    nps_category,
    nps_score,
    parse_nps,
    parse_survey,
    reorder_interval,
)
from app.domain.numbers import ValueProblem

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "kind, volume, days",
    [
        ("Сеть", "400 000", 11),  # 14 × 0.75 = 10.5 → 11
        ("розничный  магазин", "10 000", 45),  # 30 × 1.5
        ("Дистрибьютор", 50000, 21),  # band starts inclusive: × 1
        ("Интернет-магазин", None, 21),  # no volume: no correction
        ("Киоск", "abc", 30),  # unknown type → default, invalid volume → × 1
        ("", "", 30),
    ],
)
def test_reorder_interval(kind, volume, days):
    assert reorder_interval(kind, volume)[0] == days


def test_reorder_interval_explains_and_uses_settings():
    days, why = reorder_interval("Сеть", "400 000")
    assert why == "тип «Сеть»: 14 дн.; объём 400000: ×0.75"
    custom = ReorderSettings(base_days={"Аптека": 1}, volume_bands=((Decimal(0), Decimal("0.1")),))
    assert reorder_interval("аптека", 5, custom)[0] == 1  # never below one day
    assert "по умолчанию" in reorder_interval("Сеть", 5, custom)[1]


def test_next_step_required_for_open_deals():
    done = Activity(1, NOW - timedelta(days=1), True)
    missing = check_next_step(True, [done], NOW)
    assert not missing.ok
    assert missing.follow_up_due == NOW + timedelta(days=1)
    assert "нет запланированного следующего шага" in missing.message
    assert check_next_step(True, [], NOW, timedelta(hours=2)).follow_up_due == NOW + timedelta(
        hours=2
    )
    assert check_next_step(False, [done], NOW).ok


def test_next_step_present_reports_overdue():
    acts = [
        Activity(3, NOW - timedelta(hours=1), False),
        Activity(2, None, False),
        Activity(1, NOW + timedelta(hours=1), False),
    ]
    decision = check_next_step(True, acts, NOW)
    assert decision.ok and decision.follow_up_due is None
    assert decision.overdue == (3,)


@pytest.mark.parametrize(
    "raw, score",
    [(9, 9), ("9", 9), (" 10 ", 10), ("9/10", 9), ("7 из 10", 7), (0, 0), (9.0, 9), ("8,0", 8)],
)
def test_parse_nps(raw, score):
    assert parse_nps(raw) == score


@pytest.mark.parametrize("raw", [None, "", 11, -1, 9.5, "девять", True, "9/5", "10 из 100"])
def test_parse_nps_rejects(raw):
    with pytest.raises(ValueProblem):
        parse_nps(raw)


def test_nps_category_and_score():
    assert [nps_category(s) for s in (0, 6, 7, 8, 9, 10)] == [
        "detractor",
        "detractor",
        "passive",
        "passive",
        "promoter",
        "promoter",
    ]
    # 3 promoters, 1 passive, 2 detractors of 6 → (3 − 2) / 6 = 16.7 %
    assert nps_score([10, 9, 9, 8, 3, 6]) == Decimal("16.7")
    assert nps_score([]) is None
    assert nps_score([0]) == Decimal("-100.0")


def test_parse_survey_keeps_valid_answers():
    scores, problems = parse_survey({"delivery": "9", "packaging": "12"})
    assert scores == {"delivery": 9}
    assert problems == [
        "«Упаковка»: «12» — оценка должна быть от 0 до 10",
        "«Сроки годности»: нет оценки",
    ]
