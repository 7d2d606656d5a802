"""Which installed playbook a lead belongs to, where several share the portal's one lead list.

Every playbook with lead stages (metal, furniture, kitchens, b2b) runs on the portal's only
lead list — leads have no pipelines: ``crm.category.*`` answers ``ENTITY_TYPE_NOT_SUPPORTED``
for them (``api-reference/crm/universal/category/index.md``, "Which Objects Support
Funnels"), so a playbook cannot get a lead process of its own and takes its leads by the
form, line or source they came from (the claims below) instead of by pipeline; stages with the same STATUS_ID are merged at install (``app.installers.desired``):
``NEW``, ``CONVERTED`` and ``JUNK`` are shared, every other stage is one playbook's own. The
rule engine asks :func:`owner_of_lead` once per change (``app.rules.ownership``) and runs only
the owner's rules on the lead. The owner is, in this order:

1. the playbook whose **own stage the lead is in** (kitchens' «Замер назначен» → kitchens;
   a stage of a playbook since removed from the portal → nobody);
2. on a move into a shared stage, the playbook whose **own stage it came from** — the
   pipeline the manager actually worked it through;
3. the **admin's choice** (setting ``lead_claims`` of each playbook): a claim on the CRM form
   (``form:12`` — the lead's ``webformId``) or the open line (``line:livechat|1`` — the
   lead's ``imol|<connector>|<line>|…`` messenger value, as ``crm.lead.get`` shows it;
   ``line:`` alone = any open line) beats a claim on the lead's source (``WEBFORM``,
   ``CALL``, ``EMAIL``… — its ``sourceId``); the more specific claim wins;
4. the playbook whose **own lead fields** the lead has more of filled;
5. the playbook claiming ``*`` (everything nobody else claims);
6. else the first installed playbook with lead stages in :data:`app.playbooks.NAMES` order —
   the one whose code the install kept for the shared stages.

Docs: ``webformId`` is the "CRM Form identifier" of the item
(``api-reference/crm/universal/crm-item-add.md``); an open-line lead carries an ``IM`` value
like ``imol|livechat|1|67|21`` (``api-reference/crm/leads/crm-lead-get.md``). The docs show
that value only as an example, without defining its parts, so a ``line:`` claim matches
it by prefix (connector, then line) and a value of another shape matches no line claim.

A playbook without lead stages may still take leads by its own claims (eshop: the open
lines whose leads are orders — :func:`lead_takers`): while the lead is in the lead list's
first stage (``NEW``, not moved there from another), the taker owns it when its claim is
more specific than every lead playbook's; a tie stays with the lead playbooks.

Two playbooks claiming a lead equally specifically: the first in NAMES order wins (the plan
is deterministic; ``b24 playbooks`` shows the claims). With one lead playbook installed
nothing is shared and it owns every lead. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from app.rules.model import RuleContext

CLAIMS = "lead_claims"  # the setting key (a list of claims) every lead playbook declares
ANY = "*"
_EMPTY = (None, "", [], {}, 0, "0", "N", False)


def playbook_of_code(code: str | None) -> str | None:
    """The playbook that declares stage ``code`` (None for a raw, unmapped stage id)."""
    return stage_playbooks().get(code or "")


@lru_cache(maxsize=1)
def stage_playbooks() -> dict[str, str]:
    """Every declared stage code → its playbook (lead stages, pipelines, smart processes)."""
    from app.playbooks import NAMES, load

    return {s.code: name for name in NAMES for s in load(name).all_stages()}


@lru_cache(maxsize=1)
def lead_playbooks() -> tuple[str, ...]:
    """The playbooks with lead stages, in NAMES order."""
    from app.playbooks import NAMES, load

    return tuple(n for n in NAMES if load(n).lead_stages)


@lru_cache(maxsize=1)
def lead_takers() -> tuple[str, ...]:
    """Playbooks without lead stages that still take some leads by an explicit claim
    (eshop: the open lines whose leads are orders), in NAMES order."""
    from app.playbooks import NAMES, load

    return tuple(
        n
        for n in NAMES
        if not load(n).lead_stages and any(s.key == CLAIMS for s in load(n).settings)
    )


@lru_cache(maxsize=1)
def intake_codes() -> frozenset[str]:
    """The codes of the lead list's first stage (STATUS_ID ``NEW``) in every playbook."""
    from app.playbooks import NAMES, load

    return frozenset(
        s.code for n in NAMES for s in load(n).lead_stages if s.status_id == INTAKE_STATUS
    )


INTAKE_STATUS = "NEW"


def _at_intake(stage_codes: Iterable[str], from_codes: Iterable[str]) -> bool:
    """The lead is in the lead list's first stage and did not come there from another."""
    intake = intake_codes() | {INTAKE_STATUS}
    here, came = set(stage_codes), set(from_codes)
    return here <= intake and came <= intake


def _taken(
    record: Mapping[str, Any],
    takers: list[str],
    order: list[str],
    claims: Mapping[str, Iterable[str]],
) -> str | None:
    """The taker whose claim covers the lead more specifically than any lead playbook's
    (a tie stays with the lead playbooks: their process is the lead list's own)."""
    held = claimed_by(record, takers, claims)
    best = max(held.values(), default=0)
    if best < SOURCE:
        return None
    rivals = claimed_by(record, order, claims)
    if best <= max(rivals.values(), default=0):
        return None
    return next(name for name in takers if held[name] == best)


def _playbooks(codes: Iterable[str | None]) -> set[str]:
    return {p for p in (playbook_of_code(c) for c in codes) if p}


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
    return sum(1 for f in fields if record.get(f) not in _EMPTY)


def open_lines(record: Mapping[str, Any]) -> list[str]:
    """``connector|line|…`` of each open-line messenger value on the lead (``imol|…``)."""
    out = []
    for f in record.get("fm") or []:
        if not isinstance(f, Mapping):
            continue
        value = str(f.get("value") or f.get("VALUE") or "")
        if value.lower().startswith("imol|"):
            out.append(value[5:].lower())
    return out


FORM, LINE, SOURCE, STAR = 40, 20, 10, 1  # claim strengths: the more specific wins


def claim_strength(claim: str, record: Mapping[str, Any]) -> int:
    """How specifically ``claim`` covers the lead (0: it does not). A form beats a named
    line, which beats a connector, which beats any open line, which beats a source, which
    beats ``*``. Unknown claim shapes cover nothing (a typo must not capture leads)."""
    text = str(claim or "").strip()
    low = text.lower()
    if text == ANY:
        return STAR
    if low.startswith("form:"):
        form = str(record.get("webformId") or "").strip()
        return FORM if form and form == text[5:].strip() else 0
    if low.startswith("line:"):
        wanted = low[5:].strip()
        lines = open_lines(record)
        if not lines:
            return 0
        if not wanted:
            return LINE
        hit = any(f"{v}|".startswith(f"{wanted}|") for v in lines)
        return LINE + len(wanted.split("|")) if hit else 0
    if text and ":" not in text:
        source = str(record.get("sourceId") or "").strip().upper()
        return SOURCE if source and source == text.upper() else 0
    return 0


def claimed_by(
    record: Mapping[str, Any], candidates: Iterable[str], claims: Mapping[str, Iterable[str]]
) -> dict[str, int]:
    """Each candidate playbook → the strength of its strongest claim on the lead."""
    return {
        name: max((claim_strength(c, record) for c in (claims.get(name) or ())), default=0)
        for name in candidates
    }


def owner_of_lead(
    record: Mapping[str, Any] | None,
    *,
    installed: Iterable[str],
    stage_codes: Iterable[str] = (),
    from_codes: Iterable[str] = (),
    claims: Mapping[str, Iterable[str]] | None = None,
) -> str | None:
    """The installed playbook that owns the lead (see the module doc); None when no
    installed playbook has lead stages, or the lead is in a stage only playbooks that are
    not installed (any more) declare."""
    installed = set(installed)
    order = [n for n in lead_playbooks() if n in installed]
    record = record or {}
    takers = [n for n in lead_takers() if n in installed]
    if takers and _at_intake(stage_codes, from_codes):
        taken = _taken(record, takers, order, claims or {})
        if taken is not None:
            return taken
    if not order:
        return None
    if len(order) == 1:
        return order[0]
    named = _playbooks(stage_codes)
    here = named & set(order)
    if named and not here:
        return None  # the own stage of a playbook no longer installed: nobody's to touch
    if len(here) == 1:
        return here.pop()
    came = _playbooks(from_codes) & set(order)
    if len(came) == 1:
        return came.pop()
    candidates = [n for n in order if not here or n in here]
    held = claimed_by(record, candidates, claims or {})
    strongest = max(held.values())
    if strongest >= SOURCE:
        return next(name for name in candidates if held[name] == strongest)
    counts = {p: _filled(record, own_lead_fields(p)) for p in candidates}
    best = max(counts.values())
    leaders = [p for p in candidates if counts[p] == best]
    if best > 0 and len(leaders) == 1:
        return leaders[0]
    for name in candidates:
        if held[name] == STAR:
            return name
    return candidates[0]


def lead_owner(ctx: RuleContext) -> str | None:
    """The owner the engine resolved for this change (``ctx.owner``); for a context built
    without one (tests of a single rule), resolved here from the change's stage codes with
    every playbook those codes name counted as installed."""
    if ctx.owner is not None:
        return ctx.owner
    change = ctx.change
    if change.entity != "lead":
        return None
    codes = {c for c in (change.stage_to, *change.stage_to_codes) if c}
    installed = _playbooks(codes) | _playbooks({change.stage_from, *change.stage_from_codes})
    if not installed:
        return None
    return owner_of_lead(
        ctx.record,
        installed=installed,
        stage_codes=codes,
        from_codes={c for c in (change.stage_from, *change.stage_from_codes) if c},
    )


def owns(ctx: RuleContext, playbook: str) -> bool:
    """True when ``playbook`` should act on this lead (a lead no playbook can be named for —
    an unmapped stage — is left to whoever asks)."""
    owner = lead_owner(ctx)
    return owner is None or owner == playbook
