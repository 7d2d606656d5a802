"""The reports page's pipeline filter: which deal pipelines a portal has, and whose deals.

A report whose rows come from deals of more than one pipeline (``ReportSpec.by_pipeline``) takes an
optional ``category`` (the portal's ``categoryId``) and keeps only that pipeline's deals;
leads belong to no pipeline, so the lead counts of those reports stay whole. Reports that
read one pipeline their playbook owns (the eshop order funnel and refusals, b2b cold reps
and debts) or no deals at all (clients, tasks, NPS) take none.

The choices come from the store only, never a portal call: the pipelines the installer
created or adopted (crm.category, ``entityTypeId`` 2) named by their playbook, the default
pipeline (``categoryId`` 0, which every portal has), and any other ``categoryId`` seen on a
mirrored deal, named by its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.store import mirror, schema_objects

DEAL_TYPE = 2
DEFAULT = 0


@dataclass(frozen=True)
class Pipeline:
    id: int
    name: str


def _playbook_names(lang: str) -> dict[str, str]:
    from app.playbooks import NAMES, load

    return {
        p.code: getattr(p.name, "en" if lang == "en" else "ru")
        for name in NAMES
        for p in load(name).pipelines
        if p.entity == "deal"
    }


def category_of(data: dict[str, Any]) -> int | None:
    """The mirrored deal's pipeline id (a deal stored without one is in the default)."""
    try:
        return int(data.get("categoryId") or DEFAULT)
    except (TypeError, ValueError):
        return None


def deal_pipelines(session, member_id: str, lang: str = "ru") -> list[Pipeline]:
    """The portal's deal pipelines, default first, then by id (store only)."""
    names = _playbook_names(lang)
    found: dict[int, str] = {}
    for (kind, code), known in schema_objects.load(session, member_id).items():
        if kind != "category" or known.real_id is None:
            continue
        if int((known.meta or {}).get("entityTypeId") or DEAL_TYPE) != DEAL_TYPE:
            continue  # a smart process's own pipeline holds no deals
        found[int(known.real_id)] = names.get(code, code)
    found.setdefault(DEFAULT, "Основная воронка" if lang != "en" else "Default pipeline")
    for r in mirror.records(session, member_id, "deal"):
        category = category_of(r.data or {})
        if category is not None and category not in found:
            found[category] = f"Воронка #{category}" if lang != "en" else f"Pipeline #{category}"
    return [Pipeline(cid, found[cid]) for cid in sorted(found)]


def keeps(data: dict[str, Any], category: int | None) -> bool:
    """Whether a mirrored deal passes the filter (every deal when ``category`` is None)."""
    return category is None or category_of(data) == category
