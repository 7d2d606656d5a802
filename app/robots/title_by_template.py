"""Robot ``title_by_template``: the record's title from a template over its fields.

The template (``{source} · {purpose} {area} м² · {site}``; syntax in
``app.domain.templates``) comes from the robot's ``template`` property, else from the
playbook setting ``title_template``. Placeholders are any field of the record (``title``,
``UF_CRM_MT_AREA``, ``createdTime`` …) plus short names: ``source``, ``created``,
``responsible``, and the last part of every ``UF_CRM_<P>_<NAME>`` code (``area``, ``site``,
``purpose``…). A placeholder the record does not have is a configuration error: the robot
answers it and leaves the title alone, instead of writing a broken title. List fields and
the source show their names, dates their ``dd.mm.yyyy`` form, numbers the Russian form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.domain.templates import TemplateError, compile_template, render
from app.robots.contract import LoadEnv, RobotInput, RobotInputError, RobotResult
from app.robots.documents import Loaded, load_document
from app.robots.labels import enum_labels, source_names
from app.robots.spec import PropertySpec, RobotSpec
from app.rules.actions import UpdateFields

SPEC = RobotSpec(
    code="title_by_template",
    names={"ru": "Название по шаблону", "en": "Title by template"},
    descriptions={
        "ru": "Пишет название записи по шаблону, например {source} · {purpose} {area} м² · {site}",
        "en": "Sets the record's title from a template such as {source} · {purpose} {area} m²",
    },
    properties=(
        PropertySpec(
            "template",
            {"ru": "Шаблон (пусто — из настроек)", "en": "Template (empty: from settings)"},
            "string",
        ),
    ),
    returns=(
        PropertySpec("title", {"ru": "Название", "en": "Title"}, "string"),
        PropertySpec("error", {"ru": "Ошибка", "en": "Error"}, "string"),
    ),
    writes=("title",),
)

FIXED_ALIASES = {"source": "sourceId", "created": "createdTime", "responsible": "assignedById"}
_UF = re.compile(r"^UF_CRM_[A-Z0-9]+_([A-Z0-9_]+)$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?(?:[+-]\d{2}:?\d{2}|Z)?)?$")


def load(env: LoadEnv) -> Loaded:
    """The record, the names of CRM sources and the labels of the playbooks' list fields."""
    loaded = load_document(env.client, env.naming, env.document)
    extra = {
        "sources": source_names(env.client),
        "labels": enum_labels(env.naming, env.playbooks, env.entity),
    }
    return Loaded(loaded.record, loaded.related, extra)


def aliases(record: Mapping[str, Any]) -> dict[str, str]:
    """Placeholder → record key: fixed short names, then the tails of UF codes (a tail two
    codes share is left out: it would be ambiguous)."""
    out = {k: v for k, v in FIXED_ALIASES.items() if v in record}
    tails: dict[str, list[str]] = {}
    for key in record:
        match = _UF.match(str(key))
        if match:
            tails.setdefault(match.group(1).lower(), []).append(key)
    for tail, keys in tails.items():
        if len(keys) == 1 and tail not in record:
            out.setdefault(tail, keys[0])
    return out


def _value(key: str, value: Any, extra: Mapping[str, Any]) -> Any:
    if key == "sourceId" and value:
        return (extra.get("sources") or {}).get(str(value), value)
    labels = (extra.get("labels") or {}).get(key)
    if labels and value not in (None, ""):
        if isinstance(value, list):
            return [labels.get(str(v), v) for v in value]
        return labels.get(str(value), value)
    if isinstance(value, str) and _ISO.match(value):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.date() if len(value) == 10 or parsed.time() == datetime.min.time() else parsed
    return value


def run(inp: RobotInput) -> RobotResult:
    record = dict(inp.record or {})
    text = (inp.props.get("template") or "").strip() or inp.setting("title_template") or ""
    if not str(text).strip():
        raise RobotInputError("шаблон названия не задан (no title template configured)")
    names = aliases(record)
    try:
        compiled = compile_template(str(text), set(record) | set(names))
    except TemplateError as exc:
        raise RobotInputError(f"шаблон «{text}»: {exc}") from exc
    values = {}
    for field in compiled.fields:
        key = names.get(field, field)
        values[field] = _value(key, record.get(key), inp.extra)
    title = render(compiled, values)
    if not title:
        raise RobotInputError("по шаблону получилось пустое название (empty title); поля пусты")
    actions = ()
    if title != record.get("title"):
        actions = (UpdateFields(inp.entity, inp.document.record_id, {"title": title}),)
    return RobotResult(returns={"title": title}, actions=actions, log=f"Название: {title}")
