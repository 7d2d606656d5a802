"""Furniture reclamations, pure: linked to the sale, an owner and a deadline per stage, the
client told, escalation when a stage's deadline passes, a reason required to reject."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.playbooks.furniture import rules_reclamations as R
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import STAGE_ENTERED, TIMER_FIRED, Change, RuleContext

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CLERK, QUALITY, HEAD = 3, 7, 2


class Schema:
    def stage_codes(self, entity, raw):
        return [raw]

    def stage_id(self, entity, code):
        return code


def ctx(record, kind=STAGE_ENTERED, related=None, settings=None, created=False, **change):
    before = None if created else {"stageId": change.get("stage_from")}
    ch = Change("m", "deal", 9, kind, "c", before=before, after=record, **change)
    merged = {**defaults("furniture"), **(settings or {})}
    return RuleContext(ch, record, related or {}, merged, Schema(), NOW)


def recl(stage, **extra):
    return {"id": 9, "title": "Скол на фасаде", "stageId": stage, "assignedById": CLERK, **extra}


def test_a_new_reclamation_tells_the_client_and_gives_its_owner_a_deadline():
    c = ctx(recl(R.RECEIVED), created=True, stage_to=R.RECEIVED)
    message, task, timer = R.on_stage(c)
    assert isinstance(message, A.MessageClient) and "№9" in message.text
    assert message.record == ("deal", 9)
    assert task.responsible_id == CLERK and task.deadline == NOW + timedelta(hours=24)
    assert task.bind_to == ("deal", 9) and "Привязать исходную сделку" in task.checklist
    assert timer.kind == R.OVERDUE and timer.due_at == task.deadline
    assert timer.cancel_on == "stage_left" and timer.payload["stage"] == R.RECEIVED


def test_review_needs_the_original_sale_and_goes_to_the_stages_owner():
    gate = next(r for r in R.RULES if r.name == "reclamation_gate")
    c = ctx(recl(R.REVIEW), stage_from=R.RECEIVED, stage_to=R.REVIEW)
    assert gate.trigger.matches(c.change)
    move, comment, note = gate.decide(c)
    assert move.stage == R.RECEIVED and "Исходная сделка" in comment.text
    assert note.user_ids == (CLERK,)
    assert R.on_stage(c) == []  # held back: no owner change, task or timer
    settings = {"reclamation_stages": {R.REVIEW: {"hours": 48, "owner": QUALITY}}}
    linked = recl(R.REVIEW, UF_CRM_FR_ORIGINAL_DEAL=["D_5"])
    c2 = ctx(linked, settings=settings, stage_from=R.RECEIVED, stage_to=R.REVIEW)
    assert gate.decide(c2) == []
    owner, task, timer = R.on_stage(c2)
    assert owner.fields == {"assignedById": QUALITY}
    assert task.responsible_id == QUALITY and task.deadline == NOW + timedelta(hours=48)
    assert timer.payload == {"stage": R.REVIEW, "owner": QUALITY}


def test_rejecting_needs_a_reason_and_resolving_tells_the_client():
    gate = next(r for r in R.RULES if r.name == "reclamation_gate")
    c = ctx(recl(R.REJECTED), stage_from=R.REVIEW, stage_to=R.REJECTED)
    move, comment, _ = gate.decide(c)
    assert move.stage == R.REVIEW and "Причина отклонения" in comment.text
    reasoned = recl(R.REJECTED, UF_CRM_FR_RECL_REASON="Механическое повреждение клиентом")
    assert gate.decide(ctx(reasoned, stage_from=R.REVIEW, stage_to=R.REJECTED)) == []
    done = recl(R.RESOLVED, UF_CRM_FR_ORIGINAL_DEAL=5)
    (message,) = R.on_resolved(ctx(done, stage_from=R.REVIEW, stage_to=R.RESOLVED))
    assert "решена" in message.text
    no_sale = ctx(recl(R.RESOLVED), stage_from=R.REVIEW, stage_to=R.RESOLVED)
    assert R.on_resolved(no_sale) == []  # a resolution sent back by the gate says nothing


def test_a_passed_deadline_escalates_to_the_head_and_the_owner_unless_it_moved_on():
    detail = {"name": R.OVERDUE, "payload": {"stage": R.REVIEW, "owner": QUALITY}}
    related = {"audiences": {"head_of_sales": (HEAD,)}}
    c = ctx(recl(R.REVIEW), kind=TIMER_FIRED, related=related, detail=detail)
    note, comment = R.on_overdue(c)
    assert note.user_ids == (HEAD, QUALITY) and "просрочена" in note.message
    moved = ctx(recl(R.RESOLVED), kind=TIMER_FIRED, related=related, detail=detail)
    assert R.on_overdue(moved) == []
