"""Object area (m²) from length × width and tonnage from a weight per m² (metal playbook).

Inputs are whatever the card holds ("12,5", "350 см", 12.5, None); results are Decimal with a
Russian explanation of the computation that a robot may post to the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from app.domain.numbers import ValueProblem, format_number, parse_length, parse_number

__all__ = [
    "AreaResult",
    "TonnageResult",
    "compute_area",
    "area_if_complete",
    "compute_tonnage",
    "WEIGHT_UNITS",
    "ValueProblem",  # re-exported: the one error type callers catch
]

# Weight-per-m² units → factor to tonnes per m².
WEIGHT_UNITS = {"t/m2": Decimal(1), "kg/m2": Decimal("0.001")}


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class AreaResult:
    """Area of a rectangle: inputs normalised to metres and the rounded product."""

    length_m: Decimal
    width_m: Decimal
    area_m2: Decimal

    @property
    def explanation(self) -> str:
        """E.g. "Площадь: 24 × 12,5 = 300 м²"."""
        return (
            f"Площадь: {format_number(self.length_m)} × {format_number(self.width_m)}"
            f" = {format_number(self.area_m2)} м²"
        )


def compute_area(length: object, width: object, *, places: int = 2) -> AreaResult:
    """Area = length × width in m², rounded half-up to ``places`` decimals.

    Lengths may carry units ("350 см", "3500 мм", "3,5 м"). Raises ValueProblem naming
    «Длина»/«Ширина» when a value is missing, not a number, zero or negative.

    >>> compute_area("24", "12,5").area_m2
    Decimal('300.00')
    """
    length_m = parse_length(length, "Длина")
    width_m = parse_length(width, "Ширина")
    return AreaResult(length_m, width_m, _round(length_m * width_m, places))


def area_if_complete(length: object, width: object, *, places: int = 2) -> AreaResult | None:
    """Like :func:`compute_area` but None when either input is empty (rule: compute only once
    both are filled). Invalid non-empty input still raises ValueProblem."""
    if _is_empty(length) or _is_empty(width):
        return None
    return compute_area(length, width, places=places)


@dataclass(frozen=True)
class TonnageResult:
    """Tonnage = area × weight per m²; ``weight_t_per_m2`` is normalised to t/m²."""

    area_m2: Decimal
    weight_t_per_m2: Decimal
    tonnage_t: Decimal

    @property
    def explanation(self) -> str:
        """E.g. "Тоннаж: 300 м² × 0,045 т/м² = 13,5 т"."""
        return (
            f"Тоннаж: {format_number(self.area_m2)} м² × {format_number(self.weight_t_per_m2)}"
            f" т/м² = {format_number(self.tonnage_t)} т"
        )


def compute_tonnage(
    area_m2: object, weight_per_m2: object, *, unit: str = "kg/m2", places: int = 3
) -> TonnageResult:
    """Tonnage in tonnes from the area and the structure's weight per m².

    ``unit`` is "kg/m2" (default: 45 kg/m² is a typical hangar) or "t/m2". Raises ValueProblem
    for missing/invalid numbers and ValueError for an unknown unit (a configuration error).

    >>> compute_tonnage("300", "45").tonnage_t
    Decimal('13.500')
    """
    if unit not in WEIGHT_UNITS:
        raise ValueError(f"unknown weight unit {unit!r}; use one of {sorted(WEIGHT_UNITS)}")
    area = parse_number(area_m2, "Площадь", allow_zero=False)
    weight = parse_number(weight_per_m2, "Вес на м²", allow_zero=False) * WEIGHT_UNITS[unit]
    return TonnageResult(area, weight, _round(area * weight, places))
