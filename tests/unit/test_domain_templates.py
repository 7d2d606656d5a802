from datetime import date, datetime
from decimal import Decimal

import pytest

from app.domain.templates import TemplateError, compile_template, render, tidy

KNOWN = {"source", "purpose", "area", "site", "created", "name", "flag", "items"}
METAL = "{source} · {purpose} {area} м² · {site}"


def test_full_title():
    t = compile_template(METAL, KNOWN)
    values = {"source": "Сайт", "purpose": "Склад", "area": Decimal("1250.50"), "site": "Казань"}
    assert render(t, values) == "Сайт · Склад 1 250,5 м² · Казань"


@pytest.mark.parametrize(
    "values, expected",
    [
        ({"source": "Сайт", "purpose": "Склад", "site": "Казань"}, "Сайт · Склад · Казань"),
        ({"purpose": "Склад", "area": 300}, "Склад 300 м²"),
        ({"site": "Казань"}, "Казань"),
        ({"source": "Сайт", "area": ""}, "Сайт"),
        (
            {"source": None, "purpose": "  Ангар  ", "site": "Санкт-Петербург"},
            "Ангар · Санкт-Петербург",
        ),
        ({}, ""),
    ],
)
def test_missing_values_never_break_the_title(values, expected):
    assert render(compile_template(METAL, KNOWN), values) == expected


def test_optional_group_vanishes_when_a_field_inside_is_empty():
    t = compile_template("{purpose}[ {area:.1f} м²] [[{name}]]", KNOWN)
    assert render(t, {"purpose": "Склад", "area": 12.345, "name": "Иван"}) == "Склад 12,3 м² [Иван]"
    assert render(t, {"purpose": "Склад"}) == "Склад"


def test_format_specs():
    t = compile_template("{created:%d.%m.%Y} {area:.2f} {name:>5}|{created}", KNOWN)
    out = render(t, {"created": date(2026, 1, 5), "area": Decimal("1234.5"), "name": "Ян"})
    assert out == "05.01.2026 1 234,50 Ян|05.01.2026"
    dt = render(compile_template("{created}", KNOWN), {"created": datetime(2026, 1, 5, 9, 7)})
    assert dt == "05.01.2026 09:07"


def test_values_of_the_wrong_type_render_as_text():
    t = compile_template("{created:%d.%m.%Y} · {flag} · {items}", KNOWN)
    assert render(t, {"created": "завтра", "flag": True, "items": ["a", None, "b"]}) == (
        "завтра · да · a, b"
    )


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("{foo}", "неизвестное поле {foo}"),
        ("{}", "недопустимое поле"),
        ("{0}", "недопустимое поле"),
        ("{site.x}", "недопустимое поле"),
        ("{site[0]}", "недопустимое поле"),
        ("{site!r}", "запрещены"),
        ("{area:{site}}", "запрещены"),
        ("{area", "синтаксиса"),
        ("area}", "синтаксиса"),
        ("{area:zz}", "неверный формат"),
        ("[{area}", "не закрыта"),
        ("{area}]", "лишняя"),
        ("[a[b]]", "вложенные"),
    ],
)
def test_compile_rejects_bad_templates(text, fragment):
    with pytest.raises(TemplateError, match=fragment.replace("{", r"\{").replace("[", r"\[")):
        compile_template(text, KNOWN)


def test_escapes_and_fields():
    t = compile_template("{{x}} [[{site}]]", KNOWN)
    assert t.fields == {"site"}
    assert render(t, {"site": "A"}) == "{x} [A]"


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("A ·  · B ·", "A · B"),
        ("· ·", ""),
        (", A,, B,", "A, B"),
        ("Санкт-Петербург - ", "Санкт-Петербург"),
        ("x () y", "x y"),
        ("— A — — B", "A — B"),
        ("A | | B", "A | B"),
    ],
)
def test_tidy(raw, clean):
    assert tidy(raw) == clean


def test_integer_spec_is_accepted_and_renders():
    t = compile_template("{area:d} / {area:05d}", KNOWN)
    assert render(t, {"area": 42}) == "42 / 00042"
    assert render(t, {"area": Decimal("1.5")}) == "1.5 / 1.5"  # wrong type: plain text, no crash
