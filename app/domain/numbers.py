"""Human numbers: parse what people type into CRM fields, format numbers the Russian way.

People type "12,5", "12.5 м", "1 200,50", "350 см" or "12,5м²"; exports carry ints and floats.
Everything becomes a :class:`~decimal.Decimal` (never a float: areas and money must add up).
Bad input raises :class:`ValueProblem` naming the field, in Russian with an English gloss.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "ValueProblem",
    "LENGTH_UNITS",
    "AREA_UNITS",
    "MONEY_UNITS",
    "parse_number",
    "parse_length",
    "parse_area",
    "parse_money",
    "format_number",
]


class ValueProblem(ValueError):
    """A value a person typed cannot be used; ``str()`` is Russian text with an English gloss."""

    def __init__(self, field: str, message_ru: str, message_en: str) -> None:
        self.field = field
        self.message_ru = message_ru
        self.message_en = message_en
        super().__init__(f"{field}: {message_ru} ({message_en})")


# Suffix → factor to the base unit. Longest suffixes are tried first so "мм" is not read as "м".
LENGTH_UNITS: Mapping[str, Decimal] = {
    "м": Decimal(1),
    "m": Decimal(1),
    "см": Decimal("0.01"),
    "cm": Decimal("0.01"),
    "мм": Decimal("0.001"),
    "mm": Decimal("0.001"),
}
AREA_UNITS: Mapping[str, Decimal] = {
    s: Decimal(1) for s in ("м²", "м2", "m²", "m2", "кв.м", "кв. м", "кв м", "кв.м.", "sq m")
}
MONEY_UNITS: Mapping[str, Decimal] = {
    s: Decimal(1) for s in ("₽", "руб", "руб.", "р.", "р", "rub", "rur")
}
_BASE_UNITS: Mapping[str, Decimal] = {
    **{s: f for s, f in LENGTH_UNITS.items() if f == 1},
    **AREA_UNITS,
}

# Thousands separators people and spreadsheets use: space, NBSP, narrow NBSP, thin space.
_GROUP_SPACES = re.compile(r"[ \u00a0\u202f\u2009]")
_PLAIN = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?: \d{3})+(?:[.,]\d+)?")
_EN_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+\.\d+")


def _strip_unit(text: str, units: Mapping[str, Decimal]) -> tuple[str, Decimal]:
    lowered = text.lower()
    for suffix in sorted(units, key=len, reverse=True):
        if lowered.endswith(suffix):
            return text[: -len(suffix)].rstrip(), units[suffix]
    return text, Decimal(1)


def _bad(field: str, raw: object) -> ValueProblem:
    return ValueProblem(
        field,
        f"«{raw}» — не число; введите, например, 12,5",
        f"{raw!r} is not a number; type e.g. 12,5",
    )


def parse_number(
    value: object,
    field: str = "значение",
    *,
    units: Mapping[str, Decimal] | None = None,
    allow_negative: bool = False,
    allow_zero: bool = True,
) -> Decimal:
    """Parse a human-typed number into a Decimal in the base unit.

    Accepts int, Decimal, finite float and strings with a decimal comma or dot, space/NBSP
    thousands groups ("1 200,50"), an English "1,200.50", a unicode minus, and a trailing unit
    from ``units`` (default: only base units "м", "м²" and the like, factor 1).

    >>> parse_number("1 200,50")
    Decimal('1200.50')
    >>> parse_number("350 см", units=LENGTH_UNITS)
    Decimal('3.50')

    Raises ValueProblem for None/empty, text, "12,5,3", bools, NaN/inf, a negative number unless
    ``allow_negative``, zero unless ``allow_zero``.
    """
    if value is None or isinstance(value, bool):
        if value is None:
            raise ValueProblem(field, "не заполнено", "empty")
        raise _bad(field, value)
    if isinstance(value, Decimal | int | float):
        try:
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except InvalidOperation as exc:  # pragma: no cover - Decimal(int) cannot fail
            raise _bad(field, value) from exc
        factor = Decimal(1)
    elif isinstance(value, str):
        text = _GROUP_SPACES.sub(" ", value).strip().replace("\u2212", "-")
        if not text:
            raise ValueProblem(field, "не заполнено", "empty")
        text, factor = _strip_unit(text, _BASE_UNITS if units is None else units)
        if _EN_GROUPED.fullmatch(text):
            text = text.replace(",", "")
        elif _GROUPED.fullmatch(text):
            text = text.replace(" ", "")
        elif not _PLAIN.fullmatch(text):
            raise _bad(field, value)
        number = Decimal(text.replace(",", "."))
    else:
        raise _bad(field, value)
    if not number.is_finite():
        raise _bad(field, value)
    number = number * factor
    if number < 0 and not allow_negative:
        raise ValueProblem(
            field, f"«{value}» — отрицательное число недопустимо", f"{value!r} must not be negative"
        )
    if number == 0 and not allow_zero:
        raise ValueProblem(field, "должно быть больше нуля", "must be greater than zero")
    return number


def parse_length(value: object, field: str = "длина") -> Decimal:
    """A positive length in metres; "3,5", "350 см", "3500мм", "3.5 m" all give 3.5."""
    return parse_number(value, field, units=LENGTH_UNITS, allow_zero=False)


def parse_area(value: object, field: str = "площадь") -> Decimal:
    """A positive area in m²; "12,5м²", "12.5 кв.м", "12,5" all give 12.5."""
    return parse_number(value, field, units=AREA_UNITS, allow_zero=False)


def parse_money(value: object, field: str = "сумма") -> Decimal:
    """A non-negative amount of money; "150 000 руб.", "150000₽", "1 250,50" accepted."""
    return parse_number(value, field, units=MONEY_UNITS)


def format_number(
    value: Decimal | int | float,
    places: int | None = None,
    *,
    group: str = " ",
    decimal: str = ",",
    trim_zeros: bool = True,
) -> str:
    """Format Russian style: ``format_number(Decimal("1250.50"))`` → "1 250,5".

    ``places`` rounds half-up to that many decimals (kept unless ``trim_zeros``); ``group`` is
    the thousands separator (use "\\u00a0" for a non-breaking space, "" for none).

    >>> format_number(1234567.891, 2)
    '1 234 567,89'
    >>> format_number(Decimal("12.50"), 2, trim_zeros=False)
    '12,50'
    """
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = f"{abs(number):f}"
    whole, _, frac = text.partition(".")
    if trim_zeros:
        frac = frac.rstrip("0")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    sign = "-" if number < 0 else ""  # Decimal("-0.00") < 0 is False: no "-0"
    return sign + group.join(groups) + (decimal + frac if frac else "")
