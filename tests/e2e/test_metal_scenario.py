"""The metal playbook end to end, as employees would drive a portal.

Emulator (installed by the real installer) → event POSTs to our Flask app → Redis/RQ →
a real SimpleWorker → rules → one batch back to the portal. Each step asserts what the
portal holds afterwards, read through REST: stages, responsibles, titles, areas, Objects and
their links, notifications, letters (timeline), tasks. Time moves with the timers' manual
clock: the clock's tick enqueues what is due at the moved time and a real worker fires it
under the same offset (``TIMERS_TIME_OFFSET_S``), never with sleeps.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.e2e._metal_world import metal_world

pytestmark = pytest.mark.e2e

HEAD = 1  # head of sales (setting head_of_sales_id default)


@pytest.fixture
def world(tmp_path, redis_url):
    yield from metal_world(tmp_path, redis_url)


def _dims(w, entity="lead", *, width=12.5, length=24, height=6, site="Казань, ул. Ёлочная 5"):
    return {
        w.uf(entity, "UF_CRM_MT_WIDTH"): width,
        w.uf(entity, "UF_CRM_MT_LENGTH"): length,
        w.uf(entity, "UF_CRM_MT_HEIGHT"): height,
        w.uf(entity, "UF_CRM_MT_SITE"): site,
        w.uf(entity, "UF_CRM_MT_PURPOSE"): w.purpose(entity, "warehouse"),
    }


def test_metal_portal_scenario(world, monkeypatch):
    w = world
    lead_uf = lambda code: w.uf("lead", code)  # noqa: E731
    obj_uf = lambda code: w.uf("metal.object", code)  # noqa: E731

    # 1. A web form with all the data: РОП, «Данные заполнены», area, title, a new Object.
    first = w.lead_from("webform", email="buyer@stroy.ru", phone="+79001112233", **_dims(w))
    w.settle()
    lead = w.item(1, first)
    assert lead["stageId"] == w.stage("lead", "metal.lead.data_complete")
    assert lead["assignedById"] == HEAD
    assert float(lead[lead_uf("UF_CRM_MT_AREA")]) == 300.0
    assert lead["title"].startswith("Веб-форма · Склад 300 м²")
    objects = w.items(w.object_etid)
    assert len(objects) == 1
    obj = objects[0]
    assert obj["parentId1"] == first
    assert str(lead[lead_uf("UF_CRM_MT_OBJECT")]).endswith(str(obj["id"]))
    assert obj["assignedById"] == HEAD
    assert float(obj[obj_uf("UF_CRM_OBJ_AREA")]) == 300.0
    assert obj[obj_uf("UF_CRM_OBJ_PURPOSE")] == w.purpose("metal.object", "warehouse")

    # 2. The same building again (written differently): no new Object, РОП is told.
    second = w.lead_from(
        "webform",
        email="other@mail.ru",
        **_dims(w, width=12.50, site="  казань ул ёлочная 5 "),
    )
    w.settle()
    assert len(w.items(w.object_etid)) == 1
    lead2 = w.item(1, second)
    assert lead2["stageId"] == w.stage("lead", "metal.lead.data_complete")
    assert not lead2.get(lead_uf("UF_CRM_MT_OBJECT"))
    assert any(f"#{obj['id']}" in m for m in w.notifications(HEAD))

    # 3. A repeat client writes from a known e-mail: the client's responsible, «Передан».
    contact = w.add(
        3,
        {
            "name": "Иван",
            "assignedById": 4,
            "fm": [{"typeId": "EMAIL", "valueType": "WORK", "value": "ivan@client.ru"}],
        },
    )
    w.settle()
    repeat = w.lead_from("email", email="IVAN@client.ru", title="Re: ангар")
    w.settle()
    lead3 = w.item(1, repeat)
    assert lead3["assignedById"] == 4
    assert lead3["stageId"] == w.stage("lead", "metal.lead.handed_over")

    # 4. A call to a manager's own phone: stays with the manager, «Передан менеджеру».
    direct = w.lead_from("call", user_id=3, phone="+79005556677")
    w.settle()
    lead4 = w.item(1, direct)
    assert lead4["assignedById"] == 3
    assert lead4["stageId"] == w.stage("lead", "metal.lead.handed_over")

    # 5. Declined by us: the client gets the refusal letter — the caller left no e-mail, so
    # it goes by SMS to the phone (channel fallback), received by the SMS gateway.
    w.move(1, direct, "metal.lead.declined", "lead")
    w.settle()
    (letter,) = w.sms.texts("79005556677")
    assert "не сможем" in letter

    # 6. The first lead converts: contact + deal with the lead's data; the Object follows.
    w.move(1, first, "metal.lead.converted", "lead")
    w.settle()
    deals = w.items(2, {"leadId": first})
    assert len(deals) == 1
    deal = deals[0]
    assert float(deal[w.uf("deal", "UF_CRM_MT_AREA")]) == 300.0
    assert deal["contactId"]
    assert w.item(w.object_etid, obj["id"])["parentId2"] == deal["id"]

    # 6b. Leads nobody works on: after a day the head of sales is told, after two weeks they
    #     move to «Зависшие лиды»; the converted and the declined leads are left alone.
    from app.timers.clock import OFFSET_ENV
    from app.timers.clocks import ManualClock

    _fire_due(w, ManualClock(datetime.now(UTC) + timedelta(hours=25)), monkeypatch)
    w.settle()
    told = [m for m in w.notifications(HEAD) if "не обработан 24 ч" in m]
    assert len(told) == 2 and any("«Данные заполнены»" in m for m in told), told
    assert any("«Передан менеджеру»" in m for m in told)
    _fire_due(w, ManualClock(datetime.now(UTC) + timedelta(days=15)), monkeypatch)
    monkeypatch.delenv(OFFSET_ENV)
    w.settle()
    for stalled in (second, repeat):
        assert w.item(1, stalled)["stageId"] == w.stage("lead", "metal.lead.stalled")
    assert any("«Зависшие лиды»" in c for c in w.comments("lead", repeat))
    assert w.item(1, direct)["stageId"] == w.stage("lead", "metal.lead.declined")
    assert w.item(1, first)["stageId"] == w.stage("lead", "metal.lead.converted")

    # 7. A deal in negotiation that starts building in 8 months → «Отложенный спрос».
    start = (date.today() + timedelta(days=240)).isoformat()
    fields = {
        "title": "Склад Ивана",
        "contactId": contact,
        "assignedById": 4,
        w.uf("deal", "UF_CRM_MT_START_DATE"): start,
    }
    category = w.naming.category("metal.deal")
    fields["categoryId"] = category
    deferred = w.add(2, fields)
    w.settle()
    w.move(2, deferred, "metal.deal.negotiation", "deal")
    w.settle()
    assert w.item(2, deferred)["stageId"] == w.stage("deal", "metal.deal.deferred")

    # 8. 61 days later the first reminder goes out (timers' clock, fired by the real job).
    clock = ManualClock(datetime.now(UTC) + timedelta(days=61))
    assert _fire_due(w, clock, monkeypatch) == 1, _timers(w)
    deferred_timers = [t for t in _timers(w) if t[0] == "metal.deferred"]
    assert [t[-1] for t in deferred_timers].count("fired") == 1
    # the reminder is an e-mail the portal sent to the deal's contact, shown in the deal's card
    (mail,) = [m for m in w.sent("email") if "Напоминаем" in m["body"]]
    assert (mail["owner_type_id"], mail["owner_id"], mail["to"]) == (
        2,
        deferred,
        ["ivan@client.ru"],
    )

    # 9. The client writes back (an e-mail activity on the contact): resumed at once, a task,
    #    and the cadence is over (nothing fires later).
    w.activity(
        {
            "OWNER_TYPE_ID": 3,
            "OWNER_ID": contact,
            "TYPE_ID": 4,
            "SUBJECT": "Мы готовы",
            "DIRECTION": 1,
            "RESPONSIBLE_ID": 4,
        }
    )
    w.settle()
    assert w.item(2, deferred)["stageId"] == w.stage("deal", "metal.deal.resumed")
    tasks = [t for t in w.emu.portal.crm.tasks.values() if t.get("RESPONSIBLE_ID") in (4, "4")]
    assert any(f"D_{deferred}" in (t.get("UF_CRM_TASK") or []) for t in tasks)
    clock.advance(timedelta(days=90))
    assert _fire_due(w, clock, monkeypatch) == 0
    assert "pending" not in [t[-1] for t in _timers(w)]

    # 10. One responsible per client: a company's contacts follow its responsible.
    company = w.add(4, {"title": "ООО Ромашка", "assignedById": 2})
    w.settle()
    member = w.add(3, {"name": "Пётр", "companyId": company, "assignedById": 3})
    w.settle()
    assert w.item(3, member)["assignedById"] == 2
    w.emu.admin.post("crm/responsible", {"entity_type_id": 4, "id": company, "assigned_by_id": 5})
    w.settle()
    assert w.item(3, member)["assignedById"] == 5

    # 11. The Object's responsible follows the deal it belongs to.
    w.emu.admin.post(
        "crm/responsible", {"entity_type_id": 2, "id": deal["id"], "assigned_by_id": 2}
    )
    w.settle()
    assert w.item(w.object_etid, obj["id"])["assignedById"] == 2


def _timers(w):
    from app.store.timers import Timer

    with w.services.session() as s:
        return [(t.kind, t.entity, t.record_id, t.key, t.state) for t in s.query(Timer)]


def _fire_due(w, clock, monkeypatch) -> int:
    """One clock tick at ``clock``'s time, then a real worker on the timers queue (its jobs
    read the process clock, shifted to the same moment). Returns how many were enqueued."""
    from rq import SimpleWorker
    from rq.serializers import JSONSerializer

    from app.timers.clock import OFFSET_ENV, tick

    report = tick(w.services, clock)
    offset = (clock.now() - datetime.now(UTC)).total_seconds()
    monkeypatch.setenv(OFFSET_ENV, str(offset))
    queue = w.services.queue("timers")
    SimpleWorker([queue], connection=w.services.redis, serializer=JSONSerializer).work(burst=True)
    w.settle()
    return report.enqueued
