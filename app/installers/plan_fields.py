"""Plan user fields (standard entities through ``crm.*.userfield.*``, smart processes
through ``userfieldconfig.*``). Pure.

Matching: the name the store remembers, then the stable name, then the label (a field an
admin made by hand, e.g. ``UF_CRM_1721244707107`` «Ширина, м»). A type mismatch is a
conflict; missing list values are added (nothing is removed or renamed on fields the app
did not create).
"""

from __future__ import annotations

import re
from typing import Any

from app.installers.desired import Conflict
from app.installers.plan_model import CONTENT, Step
from app.installers.wire import UF_ENTITY
from app.playbooks.schema import FieldSpec
from app.store.schema_objects import Known


def field_key(f: FieldSpec) -> str:
    return f"{f.entity}:{f.code}"


def _settings(f: FieldSpec, etids: dict[str, int]) -> dict[str, Any] | None:
    """Settings with ``{smart.process}`` placeholders resolved; None while unresolved."""
    out: dict[str, Any] = {}
    for key, value in f.settings.items():
        for ref in re.findall(r"\{([a-z0-9_.]+)\}", f"{key}{value}"):
            if ref not in etids:
                return None
            key = key.replace(f"{{{ref}}}", str(etids[ref]))
            if isinstance(value, str):
                value = value.replace(f"{{{ref}}}", str(etids[ref]))
        out[key] = value
    return out


def _option_ids(f: FieldSpec, row: dict) -> dict[str, str]:
    ids: dict[str, str] = {}
    for opt in f.options:
        for o in row["options"]:
            if o["xml_id"] == opt.code or opt.label.matches(o["value"]):
                ids[opt.code] = o["id"]
                break
    return ids


def _match(f, rows, used, known, real):
    by_name = {r["name"]: r for r in rows if (r["entity_id"], r["name"]) not in used}
    if known and known.real_name in by_name:
        return by_name[known.real_name], "known"
    if real in by_name:
        return by_name[real], "name"
    for r in rows:
        free = (r["entity_id"], r["name"]) not in used
        if free and any(f.label.matches(label) for label in r["labels"]):
            return r, "label"
    return None, ""


def plan_fields(plan, fields, snapshot_fields, known, types, etids, lang) -> None:
    """``types``: smart-process code → type id (resolved ones); ``etids``: code → ETID."""
    used: set[str] = set()
    for f in fields:
        key = field_key(f)
        k = known.get(("field", key))
        settings = _settings(f, etids)
        if f.entity in UF_ENTITY:
            uf_entity, real = UF_ENTITY[f.entity], f.code
        elif f.entity in types:
            uf_entity = f"CRM_{types[f.entity]}"
            real = f"UF_CRM_{types[f.entity]}_{f.suffix}"
        else:
            plan.steps.append(Step("field", "add", key, f"{key} ({f.type})", waits_for=f.entity))
            continue
        row, how = _match(f, snapshot_fields.get(uf_entity, []), used, k, real)
        if row is None:
            if settings is None:
                plan.steps.append(
                    Step("field", "add", key, f"{key} ({f.type})", waits_for="smart process")
                )
            else:
                plan.steps.append(_add(f, key, uf_entity, real, settings, lang))
            continue
        used.add((row["entity_id"], row["name"]))
        if row["type"] != f.type or row["multiple"] != f.multiple:
            plan.conflicts.append(
                Conflict(
                    f"field {key}",
                    f"portal field {row['name']} ({sorted(row['labels'])}) is "
                    f"{row['type']}{' multiple' if row['multiple'] else ''}, the playbook needs "
                    f"{f.type}{' multiple' if f.multiple else ''}",
                    "rename the portal field's label (or delete it if unused), then re-run; "
                    f"the installer will then create {real}",
                )
            )
            continue
        mine = bool(k and k.owned and k.real_name == row["name"])
        ids = _option_ids(f, row)
        plan.matches.append(
            Known(
                "field",
                key,
                row["id"],
                row["name"],
                mine,
                {"entity": f.entity, "uf_entity": uf_entity, "options": ids},
            )
        )
        if how == "label" and not k:
            plan.adopted.append(f"field {key} → {row['name']} ({f.type})")
        missing = [o for o in f.options if o.code not in ids]
        label_wrong = mine and not any(f.label.matches(x) for x in row["labels"])
        required_wrong = mine and row["mandatory"] != f.required
        if missing or label_wrong or required_wrong:
            plan.steps.append(_update(f, key, row, missing, label_wrong, required_wrong, lang))
        else:
            plan.unchanged += 1


def _add(f: FieldSpec, key, uf_entity, real, settings, lang) -> Step:
    labels = f.label.as_map()
    record = Known("field", key, None, real, True, {"entity": f.entity, "uf_entity": uf_entity})
    if f.entity in UF_ENTITY:
        fields = {
            "FIELD_NAME": real,
            "USER_TYPE_ID": f.type,
            "XML_ID": f.code,
            "LABEL": getattr(f.label, lang),
            "EDIT_FORM_LABEL": labels,
            "LIST_COLUMN_LABEL": labels,
            "LIST_FILTER_LABEL": labels,
            "MANDATORY": "Y" if f.required else "N",
            "MULTIPLE": "Y" if f.multiple else "N",
            "SETTINGS": settings,
        }
        if f.options:
            fields["LIST"] = [
                {"VALUE": getattr(o.label, lang), "XML_ID": o.code, "SORT": o.sort, "DEF": "N"}
                for o in f.options
            ]
        return Step(
            "field",
            "add",
            key,
            f"{real} ({f.type} «{getattr(f.label, lang)}») on {f.entity}",
            f"crm.{f.entity}.userfield.add",
            {"fields": fields},
            CONTENT,
            record,
            "int",
        )
    field = {
        "entityId": uf_entity,
        "fieldName": real,
        "userTypeId": f.type,
        "xmlId": f.code,
        "mandatory": "Y" if f.required else "N",
        "multiple": "Y" if f.multiple else "N",
        "editFormLabel": labels,
        "listColumnLabel": labels,
        "settings": settings,
    }
    if f.options:
        field["enum"] = [
            {"value": getattr(o.label, lang), "xmlId": o.code, "sort": o.sort, "def": "N"}
            for o in f.options
        ]
    return Step(
        "field",
        "add",
        key,
        f"{real} ({f.type} «{getattr(f.label, lang)}») on {f.entity}",
        "userfieldconfig.add",
        {"moduleId": "crm", "field": field},
        CONTENT,
        record,
        "field",
    )


def _update(f, key, row, missing, label_wrong, required_wrong, lang) -> Step:
    what = []
    if missing:
        what.append("add values " + ", ".join(o.code for o in missing))
    if label_wrong:
        what.append(f"label → «{getattr(f.label, lang)}»")
    if required_wrong:
        what.append(f"required → {f.required}")
    text = f"{row['name']}: " + "; ".join(what)
    if f.entity in UF_ENTITY:
        fields: dict[str, Any] = {}
        if missing:
            fields["LIST"] = [{"ID": o["id"]} for o in row["options"]] + [
                {"VALUE": getattr(o.label, lang), "XML_ID": o.code, "SORT": o.sort} for o in missing
            ]
        if label_wrong:
            fields["EDIT_FORM_LABEL"] = f.label.as_map()
            fields["LIST_COLUMN_LABEL"] = f.label.as_map()
        if required_wrong:
            fields["MANDATORY"] = "Y" if f.required else "N"
        params = {"id": row["id"], "fields": fields}
        return Step("field", "update", key, text, f"crm.{f.entity}.userfield.update", params)
    field: dict[str, Any] = {}
    if missing:
        # userfieldconfig.update applies ``enum`` only with userTypeId=enumeration (doc)
        field["userTypeId"] = "enumeration"
        field["enum"] = [{"id": o["id"]} for o in row["options"]] + [
            {"value": getattr(o.label, lang), "xmlId": o.code, "sort": o.sort} for o in missing
        ]
    if label_wrong:
        field["editFormLabel"] = f.label.as_map()
    if required_wrong:
        field["mandatory"] = "Y" if f.required else "N"
    params = {"moduleId": "crm", "id": row["id"], "field": field}
    return Step("field", "update", key, text, "userfieldconfig.update", params)
