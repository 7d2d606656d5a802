"""One spreadsheet row → a validated :class:`Row`, or a :class:`Refusal` with every reason.

Pure. Values are read through the mapping of ``columns``; phones and e-mails are checked
with the validation helpers the rules use (so an imported phone identifies its client the
same way a lead's does), Object dimensions with the dedup normalisation, the manager against
the portal's users (:class:`Directory`). A row is refused when it names nobody (no company
and no contact), carries a malformed phone/e-mail/INN/dimension, or its manager is unknown —
the reasons are all listed, so one pass over the report fixes the sheet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.domain.area import area_if_complete
from app.domain.dedup import ObjectKeys, normalise_keys
from app.domain.numbers import ValueProblem
from app.domain.text import normalise_text
from app.domain.validation import check_email, normalise_phone

OBJECT_FIELDS = ("object", "width", "length", "height", "area", "site", "purpose")
_SPLIT = re.compile(r"[;,\n]+")


@dataclass(frozen=True)
class Row:
    """A row that can be imported. ``object_fields`` are the Object's dimension values
    (``width``…``purpose`` — purpose as the option code), empty when the row has none."""

    number: int
    company: str = ""
    inn: str = ""
    contact: str = ""
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    manager_id: int = 0
    object_title: str = ""
    object_fields: Mapping[str, Any] = field(default_factory=dict)
    object_keys: ObjectKeys | None = None

    @property
    def has_object(self) -> bool:
        return bool(self.object_title or self.object_fields)


@dataclass(frozen=True)
class Refusal:
    number: int
    reasons: tuple[str, ...]


class Directory:
    """The portal's users, found by id, e-mail or full name (either order)."""

    def __init__(self, users: Iterable[Mapping[str, Any]]) -> None:
        self._by: dict[str, int | None] = {}
        for user in users:
            uid = int(user["ID"])
            keys = {str(uid), str(user.get("EMAIL") or "").strip().lower()}
            first, last = str(user.get("NAME") or ""), str(user.get("LAST_NAME") or "")
            keys |= {normalise_text(f"{first} {last}"), normalise_text(f"{last} {first}")}
            for key in keys - {""}:
                # two users with one name: the name identifies neither
                self._by[key] = uid if self._by.get(key, uid) == uid else None

    def find(self, value: object) -> int | None:
        text = str(value).strip()
        if re.fullmatch(r"\d+(\.0)?", text):
            text = text.split(".")[0]
        return self._by.get(text.lower()) or self._by.get(normalise_text(text))


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 7701234567.0 from a numeric cell
    return " ".join(str(value).split())


def _parts(value: object) -> list[str]:
    return [p.strip() for p in _SPLIT.split(_text(value)) if p.strip()]


def _purpose(value: str, options: Mapping[str, str]) -> str:
    """The option code of a purpose typed as its label (Склад) or code (warehouse)."""
    key = normalise_text(value)
    for code, label in options.items():
        if key in (normalise_text(code), normalise_text(label)):
            return code
    raise ValueProblem("Назначение здания", f"«{value}» — нет такого варианта", "unknown option")


def parse(
    number: int,
    cells: Sequence[object],
    mapping: Mapping[int, str],
    directory: Directory,
    *,
    purposes: Mapping[str, str],
    default_manager: int | None = None,
) -> Row | Refusal | None:
    """Row ``number`` (as the sheet counts) → Row, Refusal, or None for an empty row."""
    raw = {f: cells[i] if i < len(cells) else None for i, f in mapping.items()}
    values = {f: _text(v) for f, v in raw.items()}
    if not any(values.values()):
        return None
    reasons: list[str] = []
    company, contact = values.get("company", ""), values.get("contact", "")
    if not company and not contact:
        reasons.append("пустое название: нет ни компании, ни контакта (empty name)")
    phones, emails = [], []
    for text in _parts(raw.get("phone")):
        try:
            phones.append(normalise_phone(text))
        except ValueProblem as exc:
            reasons.append(f"неверный телефон: {exc.message_ru} (bad phone)")
    for text in _parts(raw.get("email")):
        try:
            emails.append(check_email(text).lower())
        except ValueProblem as exc:
            reasons.append(f"неверный e-mail: {exc.message_ru} (bad e-mail)")
    inn = re.sub(r"\s", "", values.get("inn", ""))
    if inn and not re.fullmatch(r"\d{10}|\d{12}", inn):
        reasons.append(f"неверный ИНН «{inn}»: нужно 10 или 12 цифр (bad INN)")
    manager = values.get("manager", "")
    manager_id = directory.find(manager) if manager else default_manager
    if manager and manager_id is None:
        reasons.append(f"неизвестный менеджер «{manager}» (unknown manager)")
    elif not manager_id:
        reasons.append("не указан ответственный, и --default-manager не задан (no manager)")
    dims: dict[str, Any] = {}
    keys = None
    try:
        for name in ("width", "length", "height", "area", "site"):
            if values.get(name):
                dims[name] = values[name]
        if values.get("purpose"):
            dims["purpose"] = _purpose(values["purpose"], purposes)
        if "area" not in dims:
            computed = area_if_complete(dims.get("length"), dims.get("width"))
            if computed is not None:
                dims["area"] = str(computed.area_m2)
        if dims:
            keys = normalise_keys(
                width=dims.get("width"), length=dims.get("length"), height=dims.get("height"),
                area=dims.get("area"), site=dims.get("site"), purpose=dims.get("purpose"),
            )  # fmt: skip
    except ValueProblem as exc:
        reasons.append(f"{exc.field}: {exc.message_ru} (bad Object value)")
    if reasons:
        return Refusal(number, tuple(reasons))
    if keys is not None:  # numbers in metres, as the Object fields hold them
        for name in ("width", "length", "height"):
            if getattr(keys, f"{name}_m") is not None:
                dims[name] = float(getattr(keys, f"{name}_m"))
        if keys.area_m2 is not None:
            dims["area"] = float(keys.area_m2)
    return Row(
        number,
        company=company,
        inn=inn,
        contact=contact,
        phones=tuple(dict.fromkeys(phones)),
        emails=tuple(dict.fromkeys(emails)),
        manager_id=int(manager_id or 0),
        object_title=values.get("object", ""),
        object_fields=dims,
        object_keys=keys,
    )
