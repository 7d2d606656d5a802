from datetime import datetime

import pytest

from app.domain.numbers import ValueProblem
from app.domain.validation import (
    KITCHENS_REQUIREMENTS,
    KITCHENS_STAGE_ORDER,
    FieldRule,
    check_email,
    format_problems,
    normalise_phone,
    validate_stage,
)


@pytest.mark.parametrize(
    "raw, clean",
    [
        (" Ivan.Petrov@Mail.RU ", "Ivan.Petrov@mail.ru"),
        ("a+tag@sub.example.com", "a+tag@sub.example.com"),
        ("info@кухни.рф", "info@кухни.рф"),
    ],
)
def test_good_emails(raw, clean):
    assert check_email(raw) == clean


@pytest.mark.parametrize(
    "raw, fragment",
    [
        ("", "не заполнен"),
        (None, "не заполнен"),
        ("ivan.mail.ru", "«@»"),
        ("ivan@@mail.ru", "«@»"),
        ("ivan@mail", "неверный адрес"),
        ("ivan@mail,ru", "неверный адрес"),
        ("iv an@mail.ru", "неверный адрес"),
        (".ivan@mail.ru", "неверный адрес"),
        ("ivan..p@mail.ru", "неверный адрес"),
        ("ivan@-mail.ru", "неверный адрес"),
        ("ivan@mail.r", "неверный адрес"),
    ],
)
def test_bad_emails(raw, fragment):
    with pytest.raises(ValueProblem, match=fragment):
        check_email(raw)


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("8 (912) 345-67-89", "+79123456789"),
        ("+7 912 345 67 89", "+79123456789"),
        ("79123456789", "+79123456789"),
        ("9123456789", "+79123456789"),
        ("8.912.345.67.89", "+79123456789"),
        ("+375 29 123-45-67", "+375291234567"),
    ],
)
def test_phone_normalisation(raw, clean):
    assert normalise_phone(raw) == clean


@pytest.mark.parametrize(
    "raw",
    ["", None, "12345", "+7 912 345 678", "8912345678a", "+7 912 +345", "4951234567", "+1234"],
)
def test_bad_phones(raw):
    with pytest.raises(ValueProblem):
        normalise_phone(raw)


QUALIFIED = {
    "budget": "250 000",
    "material": "МДФ",
    "address": "Казань, ул. Ленина, 1",
    "house_type": "Новостройка",
    "kitchen_type": "Угловая",
    "countertop": "Кварц",
    "apron": "Нет",
    "appliances": "Своя",
    "buyer_category": "Для себя",
    "urgency": "1–3 месяца",
}


def check(stage, values, **kw):
    return validate_stage(stage, values, KITCHENS_REQUIREMENTS, KITCHENS_STAGE_ORDER, **kw)


def test_manager_assigned_needs_budget_material_address():
    problems = check("manager_assigned", {"budget": "много", "material": " "})
    assert [(p.field, p.message) for p in problems] == [
        ("budget", "«много» — не число; введите, например, 12,5"),
        ("material", "не заполнено — заполните поле"),
        ("address", "не заполнено — заполните поле"),
    ]


def test_requirements_are_cumulative():
    only_budget = {"budget": 1}
    assert {p.field for p in check("qualified", only_budget)} == {
        "material",
        "address",
        "house_type",
        "kitchen_type",
        "countertop",
        "apron",
        "appliances",
        "buyer_category",
        "urgency",
    }
    assert check("qualified", QUALIFIED) == []
    assert [p.field for p in check("catalogue_sent", QUALIFIED)] == ["email"]
    assert check("catalogue_sent", {**QUALIFIED, "email": "a@b.ru"}) == []


def test_measurement_booking_fields():
    values = {
        **QUALIFIED,
        "email": "a@b.ru",
        "measurement_address": "Казань",
        "measurement_at": "завтра",
        "measurer": 5,
        "staff_phone": ["8 912 345 67 89", "12"],
    }
    problems = check("measurement_booked", values)
    assert [p.field for p in problems] == ["measurement_at", "staff_phone"]
    values.update(measurement_at=datetime(2026, 1, 5, 10), staff_phone="+79123456789")
    assert check("measurement_booked", values) == []


def test_extra_format_checks_apply_only_to_filled_values():
    extra = [FieldRule("email", "E-mail", "email"), FieldRule("phone", "Телефон", "phone")]
    assert check("unprocessed", {}, extra_checks=extra) == []
    problems = check("unprocessed", {"email": "ivan@mail"}, extra_checks=extra)
    assert [p.field for p in problems] == ["email"]
    assert format_problems(problems).startswith("Исправьте, пожалуйста:\n— «E-mail»: «ivan@mail»")
    assert format_problems([]) == ""


def test_stage_without_order_or_unknown_stage():
    assert validate_stage("qualified", QUALIFIED, KITCHENS_REQUIREMENTS) == []
    assert validate_stage("nowhere", {}, KITCHENS_REQUIREMENTS, KITCHENS_STAGE_ORDER) == []
