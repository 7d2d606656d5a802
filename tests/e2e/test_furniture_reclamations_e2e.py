"""E2E furniture reclamations (seed 000): a reclamation deal in its pipeline, against the
emulator with the real installer, our app receiving the portal's events and a real worker;
the clock fires the stage deadline. The portal's state is read back through REST.

Docs: api-reference/crm/universal/crm-item-add.md, api-reference/crm/user-defined-fields/
(crm binding field SETTINGS), api-reference/tasks/tasks-task-add.md,
api-reference/departments/department-get.md.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.timers.clocks import ManualClock
from tests.e2e._metal_world import MetalWorld, portal_world
from tests.e2e.test_b2b_discipline import deal_tasks
from tests.e2e.test_metal_scenario import _fire_due

DEAL, CONTACT = 2, 3
CLERK, QUALITY, HEAD = 3, 5, 2  # HEAD: «Отдел продаж»'s head in the emulated portal
R = "furniture.reclamation."


@pytest.fixture
def world(tmp_path, redis_url):
    settings = {"furniture": {"reclamation_stages": {
        R + "received": {"hours": 24, "owner": 0}, R + "review": {"hours": 72, "owner": QUALITY}}}}  # fmt: skip
    yield from portal_world(tmp_path, redis_url, playbooks=["furniture"], world_class=MetalWorld,
                            settings=settings)  # fmt: skip


def test_a_reclamation_from_receipt_to_rejection(world, monkeypatch):
    w = world
    client = w.add(CONTACT, {"name": "Ирина", "fm": [{"typeId": "PHONE", "value": "+79120001122"}]})
    sale = w.add(DEAL, {"title": "Кухня «Лофт»", "categoryId": w.naming.category("furniture.sales"),
                        "contactId": client, "assignedById": CLERK})  # fmt: skip
    fields = {"title": "Скол на фасаде", "categoryId": w.naming.category("furniture.reclamations"),
              "stageId": w.stage("deal", R + "received"), "contactId": client,
              "assignedById": CLERK}  # fmt: skip
    recl = w.add(DEAL, fields, user_id=CLERK)
    w.settle()
    # 1. received: the client is told; the clerk has a task due in 24 hours
    assert any(f"рекламацию №{recl}" in c for c in w.comments("deal", recl))
    (first,) = deal_tasks(w, recl)
    assert first["responsible"] == CLERK

    # 2. on to review without the original sale: back, told what is missing
    w.move(DEAL, recl, R + "review", "deal", user_id=CLERK)
    w.settle()
    assert w.item(DEAL, recl)["stageId"] == w.stage("deal", R + "received")
    assert any("Исходная сделка" in n for n in w.notifications(CLERK))

    # 3. linked to the sale: review goes to the quality owner with a 72-hour task
    link = w.uf("deal", "UF_CRM_FR_ORIGINAL_DEAL")
    w.rest("crm.item.update", {"entityTypeId": DEAL, "id": recl, "fields": {link: f"D_{sale}"}})
    w.move(DEAL, recl, R + "review", "deal", user_id=CLERK)
    w.settle()
    got = w.item(DEAL, recl)
    assert got["stageId"] == w.stage("deal", R + "review") and got["assignedById"] == QUALITY
    assert [t["responsible"] for t in deal_tasks(w, recl)] == [CLERK, QUALITY]

    # 4. three days pass with no decision: the head of sales and the owner hear of it
    assert _fire_due(w, ManualClock(datetime.now(UTC) + timedelta(hours=73)), monkeypatch) >= 1
    overdue = "просрочена на стадии «На рассмотрении»"
    assert any(overdue in n for n in w.notifications(HEAD))
    assert any(overdue in n for n in w.notifications(QUALITY))

    # 5. rejected without a reason: back; with it: closed
    w.move(DEAL, recl, R + "rejected", "deal", user_id=QUALITY)
    w.settle()
    assert w.item(DEAL, recl)["stageId"] == w.stage("deal", R + "review")
    reason = w.uf("deal", "UF_CRM_FR_RECL_REASON")
    w.rest("crm.item.update", {"entityTypeId": DEAL, "id": recl,
                               "fields": {reason: "Повреждение при самостоятельной сборке"}})  # fmt: skip
    w.move(DEAL, recl, R + "rejected", "deal", user_id=QUALITY)
    w.settle()
    assert w.item(DEAL, recl)["stageId"] == w.stage("deal", R + "rejected")
