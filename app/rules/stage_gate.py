"""Stage gates: what a record must have to be in a stage; a move forward with gaps goes back.

The error control the kitchens playbook introduced («система контроля ошибок», seed 002),
as one mechanism any playbook declares with data (:class:`StageGate`):

* ``order`` — the stages in their forward order; ``requirements[stage]`` must be complete
  before the record *leaves* ``stage`` forward, so entering a stage needs the lists of every
  earlier stage of ``order`` (cumulative);
* ``side`` — stages outside the order (pause, won, lost): ``stage → (the last ordered stage
  whose lists apply or None, own extra fields)``;
* ``formats`` — fields checked for format whenever they are filled (e-mail, phone);
* ``multi_required`` — multi-fields (``fm`` e-mail/phone) a record must have in given stages.

A field is a stable code of the record (``UF_CRM_KT_BUDGET``, ``opportunity``) or of a
related record named before a colon (``company:UF_CRM_B2B_GEO`` reads the deal's company,
which the rule loads with ``needs=("company",)``). :meth:`StageGate.control` is the rule: a
record that entered a stage with gaps is moved back where it came from, and its responsible
gets a notification and a timeline comment listing exactly what to fix. :meth:`blocked`
and :meth:`forward` let a playbook's other rules stay quiet while a record is held back and
skip work on backward moves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.domain.validation import FieldRule, Problem, check_value, format_problems
from app.rules import actions as A
from app.rules.changes import normalize
from app.rules.model import RESPONSIBLE_FIELD, STAGE_FIELD, RuleContext

Requirements = Mapping[str, tuple[FieldRule, ...]]


def empty(value: object) -> bool:
    """Not filled: None, blank text, an empty list, a file field without a file."""
    if isinstance(value, dict):
        return not any(v not in (None, "", [], 0, "0") for v in value.values())
    return value in (None, "", [], ()) or (isinstance(value, str) and not value.strip())


# kinds whose 0 means "not set": a link to no record, a deal without a sum
ZERO_IS_EMPTY = ("link", "amount")


def _zero(value: object) -> bool:
    try:
        return float(str(value).replace(",", ".")) == 0
    except ValueError:
        return False


def _multi(record: Mapping[str, Any], type_id: str) -> list[str]:
    return [
        str(f.get("value"))
        for f in record.get("fm") or []
        if isinstance(f, dict) and f.get("typeId") == type_id and not empty(f.get("value"))
    ]


@dataclass(frozen=True)
class StageGate:
    entity: str
    prefix: str  # the playbook's stable stage codes start with it ("kitchens.lead.")
    message: str  # "Лид «{title}» возвращён на прежнюю стадию: " — what the responsible reads
    order: tuple[str, ...]
    requirements: Requirements
    side: Mapping[str, tuple[str | None, tuple[FieldRule, ...]]] = field(default_factory=dict)
    formats: tuple[tuple[FieldRule, str], ...] = ()  # (rule, fm typeId) checked when filled
    # (rule, fm typeId, stages, why): the record must have such a value in those stages
    multi_required: tuple[tuple[FieldRule, str, frozenset[str], str], ...] = ()
    # settings key whose table replaces a stage's list: {stage: [[field, label, kind?], …]}
    settings_key: str = ""
    # settings key of the portal's wording of ``message`` (empty or unset: ``message``)
    message_key: str = ""

    # -- what a stage needs ---------------------------------------------------------------
    def lists(self, settings: Mapping[str, Any] | None = None) -> Requirements:
        """The requirements, with the settings' replacements for the stages they name."""
        table = (settings or {}).get(self.settings_key) if self.settings_key else None
        if not isinstance(table, Mapping) or not table:
            return self.requirements
        out = dict(self.requirements)
        for stage, rows in table.items():
            out[str(stage)] = tuple(
                FieldRule(str(r[0]), str(r[1] if len(r) > 1 else r[0]), *(r[2:3] or ["text"]))
                for r in rows or ()
                if isinstance(r, list | tuple) and r
            )
        return out

    def entry_rules(self, stage: str, settings: Mapping[str, Any] | None = None) -> list[FieldRule]:
        """Every field that must be filled for a record to be in ``stage`` (cumulative)."""
        lists = self.lists(settings)
        if stage in self.side:
            last, own = self.side[stage]
            before = list(self.order[: self.order.index(last) + 1]) if last else []
            return [r for s in before for r in lists.get(s, ())] + list(own)
        if stage not in self.order:
            return []
        return [r for s in self.order[: self.order.index(stage)] for r in lists.get(s, ())]

    def own_stage(self, schema: Any, code: str | None, codes: Any = ()) -> str:
        """This playbook's code of a stage (stages shared between playbooks reach rules
        under the code the merge kept, e.g. ``metal.lead.converted``)."""
        code = str(code or "")
        candidates = [code, *codes]
        lookup = getattr(schema, "stage_codes", None)
        if lookup is not None and code and not code.startswith(self.prefix):
            candidates += lookup(self.entity, schema.stage_id(self.entity, code))
        return next((c for c in candidates if c.startswith(self.prefix)), code)

    # -- checking a record ------------------------------------------------------------------
    def problems(
        self,
        record: Mapping[str, Any],
        stage: str | None = None,
        schema: Any = None,
        *,
        related: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> list[Problem]:
        """What keeps ``record`` from being in ``stage`` (default: its current stage)."""
        stage = self.own_stage(schema, stage or record.get(STAGE_FIELD))
        out: list[Problem] = []
        for rule in self.entry_rules(stage, settings):
            value = self._value(record, related or {}, rule.field)
            if empty(value) or (rule.kind in ZERO_IS_EMPTY and _zero(value)):
                out.append(Problem(rule.field, rule.label, "не заполнено — заполните поле"))
            elif rule.kind not in ("choice", "text", "link", "amount"):
                problem = check_value(rule, value)
                if problem:
                    out.append(problem)
        for rule, type_id, stages, why in self.multi_required:
            if stage in stages and not _multi(record, type_id):
                out.append(Problem(rule.field, rule.label, why))
        if stage in self.order[1:] or stage in self.side:
            for rule, type_id in self.formats:
                for value in _multi(record, type_id):
                    problem = check_value(rule, value)
                    if problem:
                        out.append(problem)
        return out

    @staticmethod
    def _value(record: Mapping[str, Any], related: Mapping[str, Any], name: str) -> Any:
        owner, sep, code = name.partition(":")
        if not sep:
            return record.get(name)
        return (related.get(owner) or {}).get(code)

    def related_of(self, ctx: RuleContext) -> dict[str, Any]:
        """The related records the fields name, keyed by stable codes."""
        out = {}
        for name, raw in ctx.related.items():
            if name in ("company", "contact") and isinstance(raw, Mapping):
                out[name] = normalize(name, raw, ctx.schema) or {}
        return out

    def forward(self, ctx: RuleContext) -> bool:
        """True unless the change moved the record back along ``order``."""
        change = ctx.change
        to = self.own_stage(ctx.schema, change.stage_to, change.stage_to_codes)
        if change.stage_from is None or to not in self.order:
            return True
        came = self.own_stage(ctx.schema, change.stage_from, change.stage_from_codes)
        return self._rank(to) > self._rank(came)

    def _rank(self, stage: str | None) -> int:
        return self.order.index(stage) if stage in self.order else -1

    def blocked(self, ctx: RuleContext) -> bool:
        """True while the record sits in a stage whose needs are unmet."""
        if ctx.change.entity != self.entity or ctx.record is None:
            return False
        return bool(
            self.problems(
                ctx.record, schema=ctx.schema, related=self.related_of(ctx), settings=ctx.settings
            )
        )

    def control(self, ctx: RuleContext, *, first: str = "") -> list[A.Action]:
        """The rule: a record entering a stage with gaps goes back; the responsible is told."""
        record = ctx.record or {}
        stage = self.own_stage(ctx.schema, ctx.change.stage_to, ctx.change.stage_to_codes)
        if self.own_stage(ctx.schema, record.get(STAGE_FIELD)) != stage:
            return []  # it moved on again since; the change that put it there decides
        found = self.problems(record, stage, related=self.related_of(ctx), settings=ctx.settings)
        if not found:
            return []
        rid = ctx.change.record_id
        back = ctx.change.stage_from or first or self.order[0]
        text = self.header(ctx.settings, record.get("title") or rid) + format_problems(found)
        out: list[A.Action] = [
            A.MoveStage(self.entity, rid, back),
            A.TimelineComment(self.entity, rid, text),
        ]
        who = record.get(RESPONSIBLE_FIELD)
        if who:
            out.append(A.Notify((int(who),), text))
        return out

    def header(self, settings: Mapping[str, Any] | None, title: Any) -> str:
        """The message's opening: the portal's wording (``message_key``) or ``message``, with
        ``{title}``; other placeholders stay as written (a typo shows, it does not crash)."""
        custom = str((settings or {}).get(self.message_key) or "") if self.message_key else ""
        template = custom if custom.strip() else self.message

        class _Keep(dict):
            def __missing__(self, key: str) -> str:
                return "{" + key + "}"

        return template.format_map(_Keep(title=title))

    def controlled(self) -> tuple[str, ...]:
        """The stages whose entry is checked."""
        return (*self.order[1:], *self.side)


Check = Callable[[RuleContext], list[A.Action]]
