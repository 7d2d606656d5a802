"""Record ownership: every record a rule or a timer acts on belongs to one installed playbook.

The engine (``app.rules.engine.decide``) asks :func:`record_owner` once per change and runs
only the owner's rules; the timer job asks it again before a timer fires. Pure: no I/O.

* **deal** — by pipeline: its ``categoryId`` is the category the installer recorded for
  one playbook's pipeline (``SchemaMap.category``); failing that, the playbook that declares
  its stage code. A deal in a pipeline no installed playbook declares (the portal's own
  «Общая» pipeline on a portal that adopted none) belongs to :data:`NOBODY`: no playbook's
  rule touches it.
* **smart-process item** — the playbook that declares the smart process (entity code, i.e.
  its ``entityTypeId`` as installed); an unmapped ``dynamic:N`` belongs to NOBODY.
* **lead** — the portal's one lead list is shared: ``app.playbooks.lead_owner`` decides
  (the stage it is in or came from, the admin's form/line/source claims, own fields).
* **activity** — the owner of the lead/deal it is bound to (when the rule asked for
  ``owner``); bound to a contact or company it is shared.
* **task** — the playbook that created it (its tag ``kitchens.proposal`` → kitchens).
* **contact, company** — shared by every installed playbook (:data:`SHARED`): one client
  is the client of every process, and the playbooks' client rules (one responsible per
  company, orders per client) are about the client, not about one pipeline.

Playbooks the catalogue does not know (rules registered in tests) declare nothing, so
ownership never filters their rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from app.rules.model import STAGE_FIELD, TASK_ENTITY, TASK_TAG, Change, Rule

SHARED = None  # every installed playbook's rules may act
NOBODY = ""  # no installed playbook's rules may act
SHARED_ENTITIES = frozenset({"contact", "company"})


@lru_cache(maxsize=1)
def _catalogue() -> tuple[frozenset[str], dict[str, str], dict[str, str]]:
    """(known playbook names, pipeline code → playbook, smart process code → playbook)."""
    from app.playbooks import NAMES, load

    pipelines = {p.code: n for n in NAMES for p in load(n).pipelines}
    smart = {sp.code: n for n in NAMES for sp in load(n).smart_processes}
    return frozenset(NAMES), pipelines, smart


def governed(playbook: str) -> bool:
    """True for the catalogue's playbooks (the only ones ownership filters)."""
    return playbook in _catalogue()[0]


def stage_codes(naming: Any, entity: str, code: Any) -> frozenset[str]:
    """Every stable code naming the real stage of ``code`` (shared lead stages have several)."""
    if not code or not isinstance(code, str):
        return frozenset()
    lookup = getattr(naming, "stage_codes", None)
    if lookup is None or naming is None:
        return frozenset({code})
    try:
        found = lookup(entity, naming.stage_id(entity, code))
    except Exception:  # noqa: BLE001 - a naming without the stage: the code alone
        found = ()
    return frozenset({code, *found})


def _deal_owner(record: Mapping[str, Any], naming: Any, installed: set[str]) -> str | None:
    from app.playbooks.lead_owner import playbook_of_code

    _, pipelines, _ = _catalogue()
    category = record.get("categoryId")
    lookup = getattr(naming, "category", None)
    if category not in (None, "") and lookup is not None:
        for code, playbook in pipelines.items():
            try:
                if int(lookup(code)) == int(category):
                    return playbook if playbook in installed else NOBODY
            except (KeyError, TypeError, ValueError):
                continue
    playbook = playbook_of_code(str(record.get(STAGE_FIELD) or ""))
    if playbook is not None:
        return playbook if playbook in installed else NOBODY
    # a portal's SchemaMap knows its pipelines: a deal none of them holds is nobody's. A
    # naming without pipelines (explicit test tables) cannot tell, so it stays shared.
    return NOBODY if lookup is not None else SHARED


def _lead_owner(
    change: Change | None,
    record: Mapping[str, Any] | None,
    naming: Any,
    installed: set[str],
    settings: Mapping[str, Mapping[str, Any]],
) -> str | None:
    from app.playbooks.lead_owner import CLAIMS, owner_of_lead

    here: set[str] = set()
    came: set[str] = set()
    if change is not None:
        here = {c for c in (change.stage_to, *change.stage_to_codes) if c}
        came = {c for c in (change.stage_from, *change.stage_from_codes) if c}
    if not here and record:
        here = set(stage_codes(naming, "lead", record.get(STAGE_FIELD)))
    if change is not None and change.stage_to is None and not change.stage_to_codes:
        came = set()  # not a move: the stage it is in is all there is
    claims = {name: (settings.get(name) or {}).get(CLAIMS) or () for name in installed}
    owner = owner_of_lead(
        record, installed=installed, stage_codes=here, from_codes=came, claims=claims
    )
    return NOBODY if owner is None else owner


def record_owner(
    entity: str,
    record: Mapping[str, Any] | None,
    *,
    installed: Iterable[str],
    naming: Any = None,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    change: Change | None = None,
    related: Mapping[str, Any] | None = None,
) -> str | None:
    """The installed playbook ``record`` belongs to; :data:`SHARED` (None) or :data:`NOBODY`."""
    wanted = {p for p in installed if governed(p)}
    settings = settings or {}
    record = record if record is not None else (change.before if change else None) or {}
    if entity in SHARED_ENTITIES:
        return SHARED
    if entity == "lead":
        return _lead_owner(change, record, naming, wanted, settings)
    if entity == "deal":
        return _deal_owner(record, naming, wanted)
    if entity == TASK_ENTITY:
        tag = str(record.get(TASK_TAG) or "")
        playbook = tag.split(".", 1)[0] if "." in tag else ""
        return (playbook if playbook in wanted else NOBODY) if governed(playbook) else SHARED
    if entity == "activity":
        return _activity_owner(record, naming, wanted, settings, related or {})
    _, _, smart = _catalogue()
    if entity in smart:
        return smart[entity] if smart[entity] in wanted else NOBODY
    if entity.startswith("dynamic:"):
        return NOBODY
    return SHARED


def _activity_owner(record, naming, installed, settings, related) -> str | None:
    bound = related.get("owner")
    if not isinstance(bound, Mapping) or not bound.get("id"):
        return SHARED
    try:
        type_id = int(record.get("OWNER_TYPE_ID") or 0)
    except (TypeError, ValueError):
        return SHARED
    entity = {1: "lead", 2: "deal"}.get(type_id)
    if entity is None:
        return SHARED
    from app.rules.changes import normalize

    snapshot = normalize(entity, dict(bound), naming) if naming is not None else dict(bound)
    return record_owner(entity, snapshot, installed=installed, naming=naming, settings=settings)


def may_act(rule: Rule, owner: str | None) -> bool:
    """True when ``rule`` may act on a record owned by ``owner``."""
    if owner is SHARED or not governed(rule.playbook):
        return True
    if owner == NOBODY and rule.takes_unowned:
        return True  # an intake rule bringing a record nobody owns into its playbook
    return rule.playbook == owner
