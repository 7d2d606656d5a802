"""Which playbook a lead belongs to where playbooks installed together share lead stages.

metal and kitchens both run on the portal's one lead pipeline. Stages with the same
STATUS_ID are merged at install (``app.installers.desired``): «Не обработан» (``NEW``) and
the success stage (``CONVERTED``: metal's «Конвертирован в сделку», kitchens' «Ура,
согласие получено») are shared, every other stage is one playbook's own. A rule that acts
on a shared stage and must act once per lead — the conversion that creates the deal — asks
:func:`owns` first. The owner of a lead entering a shared stage is, in this order:

1. the playbook whose **own stage the lead came from** (worked through kitchens'
   «Клиент наш» or «Замер назначен» → kitchens; through metal's «Данные заполнены» or
   «Передан менеджеру» → metal) — the pipeline the manager actually used;
2. when it came from a shared stage (``NEW`` straight to ``CONVERTED``): the playbook whose
   **own lead fields** the lead has more of filled (``UF_CRM_KT_*`` vs metal's dimensions,
   region…);
3. when that ties too: the playbook whose code the install **kept for the shared stage** —
   the first of :data:`app.playbooks.NAMES` among those installed (metal before kitchens),
   the same on every run for the portal.

With one playbook installed nothing is shared and it owns every lead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from app.rules.model import RuleContext


def _playbook(code: str | None) -> str | None:
    """``"kitchens.lead.agreed"`` → ``"kitchens"`` (None for a raw, unmapped stage id)."""
    if not code or "." not in code:
        return None
    return code.split(".", 1)[0]


def _playbooks(codes: Iterable[str | None]) -> set[str]:
    return {p for p in (_playbook(c) for c in codes) if p}


@lru_cache(maxsize=16)
def own_lead_fields(playbook: str) -> frozenset[str]:
    """The lead field codes only ``playbook`` declares (empty for an unknown playbook)."""
    from app.playbooks import NAMES, load

    if playbook not in NAMES:
        return frozenset()
    mine = {f.code for f in load(playbook).fields if f.entity == "lead"}
    others = {
        f.code
        for name in NAMES
        if name != playbook
        for f in load(name).fields
        if f.entity == "lead"
    }
    return frozenset(mine - others)


def _filled(record: Mapping[str, Any], fields: Iterable[str]) -> int:
    empty = (None, "", [], {}, 0, "0", "N", False)
    return sum(1 for f in fields if record.get(f) not in empty)


def lead_owner(ctx: RuleContext) -> str | None:
    """The playbook the lead of this stage change belongs to (see the module doc); None
    when the change is not a stage move of a lead."""
    change = ctx.change
    if change.entity != "lead" or not change.stage_to:
        return None
    sharing = _playbooks({change.stage_to, *change.stage_to_codes})
    if len(sharing) <= 1:
        return next(iter(sharing), None)
    came_from = _playbooks({change.stage_from, *change.stage_from_codes}) & sharing
    if len(came_from) == 1:
        return came_from.pop()
    record = ctx.record or {}
    counts = {p: _filled(record, own_lead_fields(p)) for p in sharing}
    best = max(counts.values())
    leaders = [p for p, n in counts.items() if n == best]
    if len(leaders) == 1:
        return leaders[0]
    return _playbook(change.stage_to)  # the code the install kept for the shared stage


def owns(ctx: RuleContext, playbook: str) -> bool:
    """True when ``playbook`` should act on this lead's move (an unmapped stage — no
    playbook named — is left to whoever asks)."""
    owner = lead_owner(ctx)
    return owner is None or owner == playbook
