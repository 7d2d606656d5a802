"""Title templates: checked strictly when configured, rendered forgivingly on every card.

Syntax is Python's ``str.format`` restricted to plain names, plus optional groups:

    {source} · {purpose}[ {area} м²] · {site}

* ``{area:.1f}`` — numbers are formatted Russian style ("1 250,5"); no spec → trailing zeros
  trimmed. ``{created:%d.%m.%Y}`` — dates/datetimes via strftime (default ``%d.%m.%Y``).
* ``[ ... ]`` — an optional group, dropped entirely when any field inside it is empty;
  ``[[``/``]]`` are literal brackets, ``{{``/``}}`` literal braces.
* An empty field outside a group renders as nothing; a unit right after it ("м²", "т"...) is
  dropped with it, and doubled separators / spaces are collapsed, so the title never breaks.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.domain.numbers import format_number

__all__ = ["TemplateError", "CompiledTemplate", "compile_template", "render", "tidy"]


class TemplateError(ValueError):
    """The template text is unusable; raised at configuration time only."""


@dataclass(frozen=True)
class _Part:
    literal: str
    field: str | None
    spec: str


@dataclass(frozen=True)
class CompiledTemplate:
    """A validated template: groups of parts; ``optional`` groups come from ``[...]``."""

    text: str
    groups: tuple[tuple[bool, tuple[_Part, ...]], ...]

    @property
    def fields(self) -> frozenset[str]:
        """Every field name the template uses."""
        return frozenset(p.field for _, parts in self.groups for p in parts if p.field)


_UNITS_AFTER_FIELD = re.compile(r"^\s?(?:м²|м2|м|т|кг|шт\.?|руб\.?|₽|%)(?=[\s,;·|—–/-]|$)")
_SEP = r"[·|—–/-]"


def _split_groups(text: str) -> list[tuple[bool, str]]:
    chunks: list[tuple[bool, str]] = []
    buf: list[str] = []
    in_group = depth = 0
    i = 0
    while i < len(text):
        ch, nxt = text[i], text[i + 1 : i + 2]
        if depth == 0 and ch in "[]" and nxt == ch:
            buf.append(ch)
            i += 2
            continue
        if ch in "{}" and nxt == ch:
            buf.append(ch * 2)
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth == 0 and ch == "[":
            if in_group:
                raise TemplateError("вложенные [ ] не поддерживаются (nested [ ] not supported)")
            chunks.append((False, "".join(buf)))
            buf, in_group = [], 1
        elif depth == 0 and ch == "]":
            if not in_group:
                raise TemplateError("лишняя «]» (unmatched ']')")
            chunks.append((True, "".join(buf)))
            buf, in_group = [], 0
        else:
            buf.append(ch)
        i += 1
    if in_group:
        raise TemplateError("не закрыта «[» (unclosed '[')")
    chunks.append((False, "".join(buf)))
    return [c for c in chunks if c[1]]


def _check_spec(field: str, spec: str) -> None:
    if not spec or "%" in spec:
        return
    for sample in (Decimal(0), 0, ""):  # a spec valid for any value type is accepted
        try:
            format(sample, spec)
            return
        except ValueError:
            continue
    raise TemplateError(f"поле {{{field}}}: неверный формат «{spec}» (bad format spec)")


def compile_template(text: str, known_fields: Iterable[str]) -> CompiledTemplate:
    """Validate ``text`` against ``known_fields``; raise TemplateError naming the problem.

    >>> compile_template("{source} · {area:.1f} м²", {"source", "area"}).fields == {"source", "area"}
    True

    Errors: unknown field, empty/positional "{}", attribute or index access ("{a.b}",
    "{a[0]}"), conversions ("!r"), nested fields in specs, unbalanced braces or brackets.
    """
    known = set(known_fields)
    groups = []
    for optional, chunk in _split_groups(text):
        try:
            parsed = list(string.Formatter().parse(chunk))
        except ValueError as exc:
            raise TemplateError(f"ошибка синтаксиса шаблона: {exc} (syntax error)") from exc
        parts = []
        for literal, field, spec, conversion in parsed:
            if field is None:
                parts.append(_Part(literal, None, ""))
                continue
            if not field.isidentifier():
                raise TemplateError(f"недопустимое поле «{{{field}}}» (invalid field name)")
            if conversion or "{" in (spec or ""):
                raise TemplateError(f"поле {{{field}}}: «!…» и вложенные поля запрещены")
            if field not in known:
                raise TemplateError(
                    f"неизвестное поле {{{field}}}; доступны: {', '.join(sorted(known))}"
                    f" (unknown field)"
                )
            _check_spec(field, spec or "")
            parts.append(_Part(literal, field, spec or ""))
        groups.append((optional, tuple(parts)))
    return CompiledTemplate(text, tuple(groups))


def _format_value(value: object, spec: str) -> str:
    try:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "да" if value else "нет"
        if isinstance(value, int | float | Decimal):
            m = re.fullmatch(r"\.(\d+)f", spec)
            if m:
                return format_number(value, int(m.group(1)), trim_zeros=False)
            return format_number(value) if not spec else format(value, spec)
        if isinstance(value, date):
            default = "%d.%m.%Y %H:%M" if isinstance(value, datetime) else "%d.%m.%Y"
            return value.strftime(spec or default)
        if isinstance(value, list | tuple):
            return ", ".join(filter(None, (_format_value(v, spec) for v in value)))
        return format(str(value), spec).strip() if spec else str(value).strip()
    except (ValueError, TypeError):
        return str(value)


def tidy(text: str) -> str:
    """Collapse spaces and separators left by empty fields: "A ·  · B ·" → "A · B"."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\(\s*\)|\[\s*\]", "", text)
    text = re.sub(rf"(\s{_SEP})(?:\s+{_SEP})+(?=\s|$)", r"\1", text)
    text = re.sub(r"\s*,(?:\s*,)+", ",", text)
    text = re.sub(r"\s+,", ",", text)
    text = re.sub(rf"^(?:(?:{_SEP}|[,;:])(?:\s+|$))+", "", text)
    text = re.sub(rf"(?:\s+{_SEP})+$", "", text)
    text = re.sub(r"[,;:]+$", "", text)
    return re.sub(r"\s+", " ", text).strip()


def render(compiled: CompiledTemplate, values: Mapping[str, object]) -> str:
    """Render with ``values``; never raises. Missing/None/"" fields render empty (see module
    doc), and optional groups with an empty field vanish.

    >>> t = compile_template("{source} · {purpose} {area} м² · {site}", {"source", "purpose", "area", "site"})
    >>> render(t, {"source": "Сайт", "purpose": "Склад", "site": "Казань"})
    'Сайт · Склад · Казань'
    """
    out: list[str] = []
    for optional, parts in compiled.groups:
        rendered: list[str] = []
        empty_field = False
        drop_unit = False
        for part in parts:
            literal = part.literal
            if drop_unit:
                literal = _UNITS_AFTER_FIELD.sub("", literal, count=1)
            rendered.append(literal)
            drop_unit = False
            if part.field is not None:
                text = _format_value(values.get(part.field), part.spec)
                empty_field = empty_field or not text
                drop_unit = not text
                rendered.append(text)
        if not (optional and empty_field):
            out.append("".join(rendered))
    return tidy("".join(out))
