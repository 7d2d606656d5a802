from decimal import Decimal

import pytest

from app.domain.area import area_if_complete, compute_area, compute_tonnage
from app.domain.numbers import (
    LENGTH_UNITS,
    ValueProblem,
    format_number,
    parse_area,
    parse_length,
    parse_money,
    parse_number,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("12,5", "12.5"),
        ("12.5 м", "12.5"),
        ("1 200,50", "1200.50"),
        ("1\u00a0200,50", "1200.50"),
        ("1\u202f200", "1200"),
        (" 7 ", "7"),
        ("12,5м²", "12.5"),
        ("12,5 кв.м", "12.5"),
        ("1,200.50", "1200.50"),
        (12, "12"),
        (12.5, "12.5"),
        (0.1, "0.1"),  # via repr, not the binary expansion
        (Decimal("3.25"), "3.25"),
        ("+4", "4"),
        ("0", "0"),
    ],
)
def test_parse_number_accepts_human_forms(raw, expected):
    assert parse_number(raw) == Decimal(expected)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "abc",
        "12,5,3",
        "1.200.300",
        "12 5",
        "1e5",
        True,
        float("nan"),
        float("inf"),
        "12,5 кг",
        "12,",
        ",5",
        [1],
        "--1",
    ],
)
def test_parse_number_rejects_garbage_naming_the_field(raw):
    with pytest.raises(ValueProblem) as err:
        parse_number(raw, "Ширина")
    assert err.value.field == "Ширина"
    assert str(err.value).startswith("Ширина: ")


def test_negative_and_zero_policies():
    with pytest.raises(ValueProblem, match="отрицательное"):
        parse_number("-3")
    assert parse_number("\u22123,5", allow_negative=True) == Decimal("-3.5")
    with pytest.raises(ValueProblem, match="больше нуля"):
        parse_number("0", allow_zero=False)


@pytest.mark.parametrize(
    "raw, metres",
    [("3,5", "3.5"), ("350 см", "3.5"), ("3500мм", "3.5"), ("3.5 m", "3.5"), ("35 CM", "0.35")],
)
def test_length_units_convert_to_metres(raw, metres):
    assert parse_length(raw) == Decimal(metres)


def test_mm_is_not_read_as_metres():
    # "мм" ends with "м": the longest suffix must win.
    assert parse_number("1000 мм", units=LENGTH_UNITS) == Decimal("1")


def test_length_and_area_refuse_zero_and_other_units():
    with pytest.raises(ValueProblem):
        parse_length("0")
    with pytest.raises(ValueProblem):
        parse_length("12 м²")
    assert parse_area("12,5 м2") == Decimal("12.5")
    assert parse_money("150 000 руб.") == Decimal("150000")
    assert parse_money("99,90₽") == Decimal("99.90")


@pytest.mark.parametrize(
    "value, places, kwargs, expected",
    [
        (Decimal("1250.50"), None, {}, "1 250,5"),
        (1234567.891, 2, {}, "1 234 567,89"),
        (Decimal("12.50"), 2, {"trim_zeros": False}, "12,50"),
        (Decimal("0.005"), 2, {}, "0,01"),  # half-up, not banker's
        (Decimal("-0.001"), 2, {}, "0"),
        (-1250, None, {}, "-1 250"),
        (999, None, {}, "999"),
        (1000, None, {"group": ""}, "1000"),
        (Decimal("1.5"), None, {"decimal": "."}, "1.5"),
    ],
)
def test_format_number_russian_style(value, places, kwargs, expected):
    assert format_number(value, places, **kwargs) == expected


def test_area_is_product_in_square_metres_rounded_half_up():
    result = compute_area("24", "12,5")
    assert result.area_m2 == Decimal("300.00")
    assert result.explanation == "Площадь: 24 × 12,5 = 300 м²"
    assert compute_area("350 см", "3500мм").area_m2 == Decimal("12.25")
    assert compute_area("1,005", "1").area_m2 == Decimal("1.01")
    assert compute_area("1,005", "1", places=1).area_m2 == Decimal("1.0")


def test_area_errors_name_the_field():
    with pytest.raises(ValueProblem) as err:
        compute_area("12", "abc")
    assert err.value.field == "Ширина"
    with pytest.raises(ValueProblem) as err:
        compute_area("-1", "3")
    assert err.value.field == "Длина"


def test_area_if_complete_waits_for_both_values():
    assert area_if_complete(None, "3") is None
    assert area_if_complete("4", "  ") is None
    assert area_if_complete("4", "3").area_m2 == Decimal("12.00")
    with pytest.raises(ValueProblem):
        area_if_complete("4", "x")


def test_tonnage_from_kg_or_tonnes_per_square_metre():
    kg = compute_tonnage("300", "45")
    assert kg.tonnage_t == Decimal("13.500")
    assert kg.weight_t_per_m2 == Decimal("0.045")
    assert kg.explanation == "Тоннаж: 300 м² × 0,045 т/м² = 13,5 т"
    assert compute_tonnage(Decimal("12.25"), "0,05", unit="t/m2").tonnage_t == Decimal("0.613")
    with pytest.raises(ValueError, match="unknown weight unit"):
        compute_tonnage(1, 1, unit="lb/ft2")
    with pytest.raises(ValueProblem):
        compute_tonnage(None, 45)
