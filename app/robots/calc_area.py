"""Robot ``calc_area``: area (length × width) and tonnage (area × density)."""

from __future__ import annotations

from app.robots.spec import PropertySpec, RobotSpec

SPEC = RobotSpec(
    code="calc_area",
    names={"ru": "Рассчитать площадь и тоннаж", "en": "Calculate area and tonnage"},
    descriptions={
        "ru": "Площадь = длина × ширина; тоннаж = площадь × плотность",
        "en": "Area = length × width; tonnage = area × density",
    },
    properties=(
        PropertySpec("length", {"ru": "Длина, м", "en": "Length, m"}, "double", required=True),
        PropertySpec("width", {"ru": "Ширина, м", "en": "Width, m"}, "double", required=True),
        PropertySpec("density", {"ru": "Тонн на м²", "en": "Tonnes per m²"}, "double"),
    ),
    returns=(
        PropertySpec("area", {"ru": "Площадь, м²", "en": "Area, m²"}, "double"),
        PropertySpec("tonnage", {"ru": "Тоннаж, т", "en": "Tonnage, t"}, "double"),
        PropertySpec("error", {"ru": "Ошибка", "en": "Error"}, "string"),
    ),
)
