"""E2E b2b (seed 003 §3.2–3.3): mandatory fields per stage and the stage tasks with
checklists, against the emulator with the real installer, our app receiving the portal's
events (deals, tasks) and a real worker; the portal's state is read back through REST.

Docs: api-reference/crm/universal/crm-item-update.md, api-reference/tasks/tasks-task-add.md,
api-reference/tasks/tasks-task-update.md, api-reference/tasks/checklist-item/add.md.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.e2e._metal_world import MetalWorld, portal_world
from tests.e2e.test_kitchens_scenario import checklist, deadline

DEAL, COMPANY = 2, 4
REP = 4


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["b2b"], world_class=MetalWorld)


def deal_tasks(w, deal_id):
    out = []
    for row in w.emu.admin.get("crm/tasks"):
        if f"D_{deal_id}" in [str(x) for x in row.get("UF_CRM_TASK") or []]:
            out.append({"id": int(row["ID"]), "title": str(row["TITLE"]),
                        "status": str(row.get("STATUS")), "responsible": int(row["RESPONSIBLE_ID"])})  # fmt: skip
    return out


def titled(w, deal_id, prefix):
    return [t for t in deal_tasks(w, deal_id) if t["title"].startswith(prefix)]


def test_gaps_send_the_deal_back_and_every_stage_brings_its_task(world):
    w = world
    company = w.add(
        COMPANY, {"title": "Сеть «Квартал»", w.uf("company", "UF_CRM_B2B_GEO"): "Казань"}
    )
    fields = {"title": "Квартал", "categoryId": w.naming.category("b2b.sales"),
              "stageId": w.stage("deal", "b2b.sales.new"), "assignedById": REP,
              "companyId": company}  # fmt: skip
    deal = w.add(DEAL, fields, user_id=REP)
    w.settle()
    # 1. a new deal: the manager's first task, with its checklist
    (first,) = titled(w, deal, "Связаться с новым клиентом")
    assert first["responsible"] == REP
    assert "Найти лицо, принимающее решения" in checklist(w, first["id"])

    # 2. needs → offer while the company lacks three of the four answers: back, told exactly
    w.move(DEAL, deal, "b2b.sales.needs", "deal", user_id=REP)
    w.settle()
    assert len(titled(w, deal, "Выявить потребности клиента")) == 1
    w.move(DEAL, deal, "b2b.sales.offer", "deal", user_id=REP)
    w.settle()
    assert w.item(DEAL, deal)["stageId"] == w.stage("deal", "b2b.sales.needs")
    told = [n for n in w.notifications(REP) if "возвращена на прежнюю стадию" in n]
    assert len(told) == 1
    for label in ("Целевая аудитория", "Объём заказа", "Тип бизнеса"):
        assert label in told[0]
    assert "География" not in told[0]
    assert titled(w, deal, "Подготовить и отправить КП") == []  # nothing else ran

    # 3. the answers filled and a sum: the move holds and the offer task appears, once
    chain = w.naming.enum_id("UF_CRM_B2B_BUSINESS", "chain", entity="company")
    w.rest("crm.item.update", {"entityTypeId": COMPANY, "id": company, "fields": {
        w.uf("company", "UF_CRM_B2B_AUDIENCE"): "семьи", w.uf("company", "UF_CRM_B2B_VOLUME"): 120,
        w.uf("company", "UF_CRM_B2B_BUSINESS"): chain}})  # fmt: skip
    w.rest("crm.item.update", {"entityTypeId": DEAL, "id": deal, "fields": {"opportunity": 90000}})
    w.move(DEAL, deal, "b2b.sales.offer", "deal", user_id=REP)
    w.settle()
    assert w.item(DEAL, deal)["stageId"] == w.stage("deal", "b2b.sales.offer")
    (offer,) = titled(w, deal, "Подготовить и отправить КП")
    assert "Отправить КП клиенту" in checklist(w, offer["id"])

    # 4. closing the offer task brings the follow-up call, once (a replayed close: no second)
    w.rest("tasks.task.update", {"taskId": offer["id"], "fields": {"STATUS": 5}})
    w.settle()
    w.rest("tasks.task.update", {"taskId": offer["id"], "fields": {"STATUS": 5}})
    w.settle()
    assert len(titled(w, deal, "Перезвонить клиенту по КП")) == 1

    # 5. invoiced with a due date: the payment task is due then; a new date moves it
    due = w.uf("deal", "UF_CRM_B2B_PAY_DUE")
    w.rest("crm.item.update", {"entityTypeId": DEAL, "id": deal, "fields": {due: "2026-12-10"}})
    w.move(DEAL, deal, "b2b.sales.invoice", "deal", user_id=REP)
    w.settle()
    (pay,) = titled(w, deal, "Проконтролировать оплату")
    assert deadline(w, pay["id"]).date().isoformat() == "2026-12-10"
    w.rest("crm.item.update", {"entityTypeId": DEAL, "id": deal, "fields": {due: "2026-12-24"}})
    w.settle()
    (moved,) = titled(w, deal, "Проконтролировать оплату")
    assert moved["id"] == pay["id"]
    assert deadline(w, pay["id"]).date() == datetime(2026, 12, 24).date()


def test_the_cold_sales_rep_report_counts_what_the_rep_created_on_the_portal(world):
    import json

    w = world
    company = w.add(COMPANY, {"title": "Магазин у дома"}, user_id=REP)
    contact = w.add(3, {"name": "Пётр", "companyId": company}, user_id=REP)
    fields = {"title": "Магазин у дома", "categoryId": w.naming.category("b2b.cold"),
              "stageId": w.stage("deal", "b2b.cold.new"), "assignedById": REP,
              "companyId": company, "contactId": contact}  # fmt: skip
    w.add(DEAL, fields, user_id=REP)
    w.add(COMPANY, {"title": "Чужая компания"}, user_id=1)
    w.settle()
    result = w.app.test_cli_runner().invoke(
        args=["b24", "report", "b2b_cold_reps", "--portal", w.member_id, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    (table,) = json.loads(result.output)
    rows = {r[0]: r[1:] for r in table["rows"]}
    # names come from the cached portal directory when a job has read it, else #id
    rep = rows.get("Мария Кузнецова") or rows.get(f"#{REP}")
    admin = rows.get("Администратор") or rows.get("#1")
    # the rep: one company, one contact, one cold deal with 3 of its 7 fields filled
    assert rep == [1, 1, 1, "42.9"], rows
    assert admin[:3] == [1, 0, 0]
