"""Robot ``calc_area``: area (length × width) and tonnage (area × density).

Length and width come from the robot's properties — the admin usually sets them to
``{=Document:UF_CRM_MT_LENGTH}``, so the portal sends the card's values as text ("12,5",
"12.5 м" and "12.5" all work). An empty, zero or non-numeric value is an error answer and
nothing is written.
When ``area_field`` / ``tonnage_field`` name a field of the record (stable code such as
``UF_CRM_MT_AREA``), the results are written there too.
"""

from __future__ import annotations

from app.domain.area import ValueProblem, compute_area, compute_tonnage
from app.robots.contract import LoadEnv, RobotInput, RobotInputError, RobotResult
from app.robots.documents import Loaded
from app.robots.spec import PropertySpec, RobotSpec
from app.rules.actions import UpdateFields

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
        PropertySpec(
            "area_field",
            {"ru": "Поле для площади", "en": "Field for the area"},
            "string",
            descriptions={"ru": "Например UF_CRM_MT_AREA", "en": "E.g. UF_CRM_MT_AREA"},
        ),
        PropertySpec(
            "tonnage_field",
            {"ru": "Поле для тоннажа", "en": "Field for the tonnage"},
            "string",
            descriptions={"ru": "Например UF_CRM_MT_TONNAGE", "en": "E.g. UF_CRM_MT_TONNAGE"},
        ),
    ),
    returns=(
        PropertySpec("area", {"ru": "Площадь, м²", "en": "Area, m²"}, "double"),
        PropertySpec("tonnage", {"ru": "Тоннаж, т", "en": "Tonnage, t"}, "double"),
        PropertySpec("error", {"ru": "Ошибка", "en": "Error"}, "string"),
    ),
    writes=("UF_CRM_*", "opportunity"),  # numbers only: never title, stage or owner
)


def run(inp: RobotInput) -> RobotResult:
    """Area from the properties; tonnage only when a density (t/m²) is given."""
    props = inp.props
    try:
        area = compute_area(props["length"], props["width"])
        tonnage = None
        if props.get("density") is not None:
            tonnage = compute_tonnage(area.area_m2, props["density"], unit="t/m2")
    except ValueProblem as exc:
        raise RobotInputError(str(exc)) from exc
    returns = {"area": area.area_m2}
    log = area.explanation
    if tonnage is not None:
        returns["tonnage"] = tonnage.tonnage_t
        log += "; " + tonnage.explanation
    fields = {}
    if (props.get("area_field") or "").strip():
        fields[props["area_field"].strip()] = float(area.area_m2)
    if tonnage is not None and (props.get("tonnage_field") or "").strip():
        fields[props["tonnage_field"].strip()] = float(tonnage.tonnage_t)
    actions = ()
    if fields:
        actions = (UpdateFields(inp.entity, inp.document.record_id, fields),)
    return RobotResult(returns=returns, actions=actions, log=log)


def load(env: LoadEnv) -> Loaded:
    """Nothing to read: the values arrive as properties (the write needs no snapshot)."""
    return Loaded(record=None)
