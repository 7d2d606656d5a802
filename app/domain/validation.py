"""Required fields per stage and e-mail/phone checks (kitchens error control, spec §3 rule 8).

A stage's requirements are data: stage code → fields with a Russian label and a kind. The
check returns problems in Russian saying what to fix; an empty list means the lead may move.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from app.domain.numbers import ValueProblem, parse_number

__all__ = [
    "FieldRule",
    "Problem",
    "normalise_phone",
    "check_email",
    "check_value",
    "validate_stage",
    "format_problems",
    "KITCHENS_STAGE_ORDER",
    "KITCHENS_REQUIREMENTS",
]


@dataclass(frozen=True)
class FieldRule:
    """``kind``: text, email, phone, number, date, choice (any non-empty value)."""

    field: str
    label: str
    kind: str = "text"


@dataclass(frozen=True)
class Problem:
    field: str
    label: str
    message: str  # Russian, says what to fix

    def __str__(self) -> str:
        return f"«{self.label}»: {self.message}"


_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}"
)


def check_email(value: object) -> str:
    """Return the trimmed, lower-cased-domain e-mail or raise ValueProblem (Russian).

    >>> check_email(" Ivan.Petrov@Mail.RU ")
    'Ivan.Petrov@mail.ru'
    """
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValueProblem("e-mail", "не заполнен", "empty")
    if text.count("@") != 1:
        raise ValueProblem(
            "e-mail", f"«{text}» — нужен ровно один знак «@», например ivan@mail.ru", "need one @"
        )
    if not _EMAIL.fullmatch(text):
        raise ValueProblem(
            "e-mail",
            f"«{text}» — неверный адрес: проверьте точки, запятые, пробелы и домен (ivan@mail.ru)",
            "malformed e-mail",
        )
    local, domain = text.split("@")
    return f"{local}@{domain.lower()}"


def normalise_phone(value: object) -> str:
    """Normalise a phone to E.164: Russian "8 (912) 345-67-89", "9123456789",
    "+7 912 345 67 89" → "+79123456789"; other "+<10–15 digits>" kept. Raises ValueProblem."""
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValueProblem("телефон", "не заполнен", "empty")
    if re.search(r"[^\d\s()+.\-]", text) or "+" in text[1:]:
        raise ValueProblem("телефон", f"«{text}» — недопустимые символы", "bad characters")
    digits = re.sub(r"\D", "", text)
    if len(digits) == 11 and digits[0] in "78" and not (text.startswith("+") and digits[0] == "8"):
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] == "9" and not text.startswith("+"):
        return "+7" + digits
    # +7 is Russia/Kazakhstan: exactly 11 digits, handled above; any other length is a typo.
    if text.startswith("+") and digits[:1] != "7" and 10 <= len(digits) <= 15:
        return "+" + digits
    raise ValueProblem(
        "телефон",
        f"«{text}» — неверный номер; введите, например, +7 912 345-67-89",
        "malformed phone",
    )


def _empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | set | dict) and not value


def check_value(rule: FieldRule, value: object) -> Problem | None:
    """Problem for a non-empty value of the wrong format, else None (emptiness not checked)."""
    try:
        if rule.kind == "email":
            check_email(value)
        elif rule.kind == "phone":
            for item in value if isinstance(value, list | tuple) else [value]:
                normalise_phone(item)
        elif rule.kind == "number":
            parse_number(value, rule.label)
        elif rule.kind == "date" and not isinstance(value, date):
            return Problem(rule.field, rule.label, "укажите дату")
    except ValueProblem as exc:
        return Problem(rule.field, rule.label, exc.message_ru)
    return None


def validate_stage(
    stage: str,
    values: Mapping[str, object],
    requirements: Mapping[str, Sequence[FieldRule]],
    order: Sequence[str] | None = None,
    extra_checks: Sequence[FieldRule] = (),
) -> list[Problem]:
    """Problems preventing a card from being in ``stage``.

    With ``order`` the requirements are cumulative (a later stage also needs every earlier
    stage's fields). ``extra_checks`` are format checks for fields that are optional but must
    be well-formed when filled (e.g. the client's e-mail).
    """
    stages = [stage]
    if order is not None and stage in order:
        stages = list(order[: order.index(stage) + 1])
    rules: dict[str, FieldRule] = {}
    for s in stages:
        for rule in requirements.get(s, ()):
            rules.setdefault(rule.field, rule)
    problems = []
    for rule in rules.values():
        value = values.get(rule.field)
        if _empty(value):
            problems.append(Problem(rule.field, rule.label, "не заполнено — заполните поле"))
            continue
        problem = check_value(rule, value)
        if problem:
            problems.append(problem)
    for rule in extra_checks:
        if rule.field not in rules and not _empty(values.get(rule.field)):
            problem = check_value(rule, values[rule.field])
            if problem:
                problems.append(problem)
    return problems


def format_problems(problems: Sequence[Problem]) -> str:
    """One message for the manager: "Исправьте, пожалуйста:\\n— «E-mail»: …"."""
    if not problems:
        return ""
    return "Исправьте, пожалуйста:\n" + "\n".join(f"— {p}" for p in problems)


KITCHENS_STAGE_ORDER = (
    "unprocessed",
    "manager_assigned",
    "qualified",
    "catalogue_sent",
    "measurement_booked",
)
KITCHENS_REQUIREMENTS: Mapping[str, Sequence[FieldRule]] = {
    "manager_assigned": (
        FieldRule("budget", "Предполагаемый бюджет", "number"),
        FieldRule("material", "Материал мебели", "choice"),
        FieldRule("address", "Адрес объекта"),
    ),
    "qualified": (
        FieldRule("house_type", "Тип дома", "choice"),
        FieldRule("kitchen_type", "Тип кухни, конфигурация", "choice"),
        FieldRule("countertop", "Материал столешницы", "choice"),
        FieldRule("apron", "Фартук и его материал", "choice"),
        FieldRule("appliances", "Встроенная техника", "choice"),
        FieldRule("buyer_category", "Категория покупателя", "choice"),
        FieldRule("urgency", "Срочность", "choice"),
    ),
    # The catalogue and proposal go by e-mail, so it must exist from here on (seed 002).
    "catalogue_sent": (FieldRule("email", "E-mail клиента", "email"),),
    "measurement_booked": (
        FieldRule("measurement_address", "Адрес замера"),
        FieldRule("measurement_at", "Дата и время замера", "date"),
        FieldRule("measurer", "Замерщик", "choice"),
        FieldRule("staff_phone", "Контакт сотрудника", "phone"),
    ),
}
