"""E2E b2b survey (seed 003): the first delivery → the survey timer → the client's message
with a signed link → the page answered over real HTTP on a phone-sized form → a real worker
writes the answers to the deal and the contact, and the manager's head gets a task for the
low score. The link is then reused, expired and tampered with.

Docs: api-reference/crm/universal/crm-item-update.md, api-reference/tasks/tasks-task-add.md,
api-reference/departments/department-get.md (UF_HEAD), api-reference/user/user-get.md.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from app.nps.token import issue
from app.timers.clocks import ManualClock
from tests.e2e._metal_world import MetalWorld, portal_world
from tests.e2e.test_b2b_discipline import deal_tasks
from tests.e2e.test_metal_scenario import _fire_due

DEAL, CONTACT, COMPANY = 2, 3, 4
REP, HEAD = 4, 2  # Мария Кузнецова works in «Отдел продаж», whose head is Ольга Смирнова


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["b2b"], world_class=MetalWorld)


def test_survey_link_answered_on_the_page_lands_on_the_deal_contact_and_the_heads_task(
    world, monkeypatch
):
    w = world
    chain = w.naming.enum_id("UF_CRM_B2B_BUSINESS", "chain", entity="company")
    company = w.add(COMPANY, {"title": "Сеть «Квартал»",
                              w.uf("company", "UF_CRM_B2B_BUSINESS"): chain,
                              w.uf("company", "UF_CRM_B2B_AUDIENCE"): "семьи",
                              w.uf("company", "UF_CRM_B2B_GEO"): "Казань",
                              w.uf("company", "UF_CRM_B2B_VOLUME"): 80})  # fmt: skip
    contact = w.add(CONTACT, {"name": "Анна", "companyId": company,
                              "fm": [{"typeId": "EMAIL", "value": "anna@kvartal.ru"}]})  # fmt: skip
    deal = w.add(DEAL, {"title": "Первая поставка", "categoryId": w.naming.category("b2b.sales"),
                        "stageId": w.stage("deal", "b2b.sales.shipment"), "assignedById": REP,
                        "companyId": company, "contactId": contact, "opportunity": 50000,
                        w.uf("deal", "UF_CRM_B2B_PAY_DUE"): "2026-12-10"}, user_id=REP)  # fmt: skip
    w.settle()
    # 1. delivered: three days later the client gets the survey link
    w.move(DEAL, deal, "b2b.sales.won", "deal", user_id=REP)
    w.settle()
    assert _fire_due(w, ManualClock(datetime.now(UTC) + timedelta(days=4)), monkeypatch) >= 1
    # the portal sent the e-mail (client channels), shown in the deal's card
    sent = [m["body"] for m in w.sent("email") if "/nps/" in m["body"]]
    assert len(sent) == 1, w.sent("email")
    url = re.search(r"https?://\S+/nps/[\w.-]+", sent[0]).group(0)
    assert url.startswith(w.services.settings.app_base_url)

    # 2. the client opens it on a phone (no portal login) and answers
    page = requests.get(url, timeout=10, headers={"User-Agent": "Mobile Safari"})
    assert page.status_code == 200 and 'name="delivery"' in page.text
    answer = {"delivery": "9", "packaging": "3", "shelf": "8", "comment": "Коробки помяты"}
    done = requests.post(url, data=answer, timeout=10)
    assert done.status_code == 200 and "Спасибо" in done.text
    w.settle()

    # 3. the answers on the deal and the contact; the manager's head has a task
    got = w.item(DEAL, deal)
    failed = w.services.queue("sync").failed_job_registry
    assert not failed.get_job_ids(), [
        w.services.queue("sync").fetch_job(j).latest_result().exc_string[-1500:]
        for j in failed.get_job_ids()
    ]
    assert got[w.uf("deal", "UF_CRM_B2B_NPS_PACKAGING")] == 3
    assert got[w.uf("deal", "UF_CRM_B2B_NPS_SCORE")] == 7
    assert got[w.uf("deal", "UF_CRM_B2B_NPS_COMMENT")] == "Коробки помяты"
    person = w.item(CONTACT, contact)
    assert person[w.uf("contact", "UF_CRM_B2B_NPS_DELIVERY")] == 9
    assert person[w.uf("contact", "UF_CRM_B2B_NPS_SHELF")] == 8
    (task,) = [t for t in deal_tasks(w, deal) if t["title"].startswith("Низкая оценка")]
    assert task["responsible"] == HEAD

    # 3b. the reports, from the store the worker kept in step with the portal
    def report(name, *extra):
        result = w.app.test_cli_runner().invoke(
            args=["b24", "report", name, "--portal", w.member_id, "--format", "json", *extra]
        )
        assert result.exit_code == 0, result.output
        return [t["rows"] for t in json.loads(result.output)]

    per_employee, per_month = report("b2b_nps")
    assert per_employee == [["Мария Кузнецова", 1, "0.0", "9.0", "3.0", "8.0"]]  # a passive 7
    assert [row[1:] for row in per_month] == [[1, "0.0"]]
    (tasks,) = report("b2b_tasks")
    assert ["Ольга Смирнова", 1, 0, 1, 0, 0, None] in tasks  # the head's open survey task
    debts, owed = report("b2b_debts", "--until", "2026-12-31")
    assert debts == [["Сеть «Квартал»", "50000.0", "50000.0", 21]]
    assert owed[0][:2] == ["Первая поставка", "Сеть «Квартал»"]

    # 4. reused, expired, tampered: refused, nothing changes
    assert requests.post(url, data={**answer, "packaging": "10"}, timeout=10).status_code == 409
    assert w.item(DEAL, deal)[w.uf("deal", "UF_CRM_B2B_NPS_PACKAGING")] == 3
    secret = w.emu.portal.core.apps[w.services.settings.b24_client_id].application_token
    base = w.services.settings.app_base_url
    expired = issue(secret, w.member_id, deal + 1, int(time.time()) - 5)
    assert requests.get(f"{base}/nps/{expired}", timeout=10).status_code == 410
    token = url.rsplit("/", 1)[1]
    tampered = issue(secret, w.member_id, deal + 1, int(time.time()) + 600).split(".")[0]
    tampered += "." + token.split(".")[1]  # another deal under this deal's signature
    assert requests.post(f"{base}/nps/{tampered}", data=answer, timeout=10).status_code == 404
    w.settle()
    assert len([t for t in deal_tasks(w, deal) if t["title"].startswith("Низкая оценка")]) == 1
