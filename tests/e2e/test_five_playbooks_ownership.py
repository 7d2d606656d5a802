"""E2E: all five playbooks on one emulated portal; each acts only on its own records.

The emulator, the real installer (all five merged), our Flask app receiving the portal's
events, a real RQ worker. One record of each playbook is driven through its playbook:

* metal — a web-form lead (metal claims ``WEBFORM``): its title comes from the template;
* kitchens — a phone lead «Звонок: ангар» (kitchens claims ``CALL``): the SOS timer starts,
  and the metal title template leaves its title alone;
* furniture — a web-form lead from CRM form 7, which the admin gave furniture
  (``lead_claims`` setting ``form:7``), then moved to «Клиент пришёл в магазин»;
* b2b — a deal in the «Продажи» pipeline, lost → a task to find out why;
* eshop — the order «Заказ №1001», confirmed → the stage's hint task; its title stays.

Then, for every one of the five records: every audit row about it (or whose action targets
it) and every timer on it belongs to its own playbook — no other playbook wrote anything.
Ownership: ``app.rules.ownership``, ``app.playbooks.lead_owner``.
"""

from __future__ import annotations

import pytest

from app.playbooks import NAMES
from tests.e2e._metal_world import MetalWorld, portal_world

LEAD, DEAL = 1, 2
MANAGER = 3


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(
        tmp_path,
        redis_url,
        playbooks=list(NAMES),
        world_class=MetalWorld,
        settings={"furniture": {"lead_claims": ["line:", "form:7"]}},
    )


def deal(w, pipeline, stage, title):
    fields = {
        "title": title,
        "categoryId": w.naming.category(pipeline),
        "stageId": w.stage("deal", stage),
        "assignedById": MANAGER,
    }
    deal_id = w.add(DEAL, fields, user_id=MANAGER)
    w.settle()
    return deal_id


def _targets(action: dict) -> set[tuple[str, int]]:
    """The records an audited action wrote to (as its plain form names them)."""
    out = set()
    if action.get("entity") and isinstance(action.get("record_id"), int):
        out.add((action["entity"], action["record_id"]))
    for key in ("record", "bind_to"):
        ref = action.get(key)
        if isinstance(ref, list | tuple) and len(ref) == 2 and isinstance(ref[1], int):
            out.add((ref[0], ref[1]))
    return out


def writers(w, entity, record_id):
    """Playbooks with audit rows on the record or actions targeting it, and timer kinds."""
    from sqlalchemy import select

    from app.store.audit import AuditEntry
    from app.store.timers import Timer

    with w.services.session() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.member_id == w.member_id)).all()
        timers = s.scalars(
            select(Timer).where(
                Timer.member_id == w.member_id,
                Timer.entity == entity,
                Timer.record_id == record_id,
            )
        ).all()
        rules = {
            r.rule.split(".", 1)[0]
            for r in rows
            if (r.entity, r.record_id) == (entity, record_id)
            or (entity, record_id) in _targets(r.action or {})
        }
        return rules, {t.kind for t in timers}


def test_each_playbook_acts_only_on_its_own_record(world):
    w = world
    # metal: a web-form lead
    metal = w.lead_from("webform", title="Заявка с сайта", name="Олег", phone="+79110000001")
    # kitchens: a phone lead
    kitchens = w.lead_from("call", title="Звонок: ангар", name="Анна", phone="+79110000002")
    # furniture: a lead from CRM form 7 (the admin's claim), then the client visits the store
    furniture = w.lead_from(
        "webform", title="Форма: диван", name="Ирина", phone="+79110000003", webformId=7
    )
    w.settle()
    w.move(LEAD, furniture, "furniture.lead.visited", "lead", user_id=MANAGER)
    w.settle()
    # b2b: a sales deal, lost
    b2b = deal(w, "b2b.sales", "b2b.sales.new", "Поставка: сеть «Уют»")
    w.move(DEAL, b2b, "b2b.sales.lost", "deal", user_id=MANAGER)
    w.settle()
    # eshop: an order, confirmed
    eshop = deal(w, "eshop.orders", "eshop.order.new", "Заказ №1001")
    w.move(DEAL, eshop, "eshop.order.confirmed", "deal", user_id=MANAGER)
    w.settle()

    # the owners did their work ...
    assert w.item(LEAD, metal)["title"] != "Заявка с сайта"  # metal's title template
    assert writers(w, "lead", kitchens)[1] >= {"kitchens.sos"}
    assert writers(w, "lead", furniture)[1] >= {"furniture.store_visit"}
    assert "b2b" in writers(w, "deal", b2b)[0]
    assert "eshop" in writers(w, "deal", eshop)[0]
    # ... and nobody else touched their records
    assert w.item(LEAD, kitchens)["title"] == "Звонок: ангар"
    assert w.item(LEAD, furniture)["title"] == "Форма: диван"
    assert w.item(DEAL, eshop)["title"] == "Заказ №1001"
    assert w.item(DEAL, b2b)["title"] == "Поставка: сеть «Уют»"
    owners = {
        ("lead", metal): "metal",
        ("lead", kitchens): "kitchens",
        ("lead", furniture): "furniture",
        ("deal", b2b): "b2b",
        ("deal", eshop): "eshop",
    }
    for (entity, record_id), owner in owners.items():
        rules, kinds = writers(w, entity, record_id)
        assert rules <= {owner}, (entity, record_id, owner, rules)
        assert {k.split(".", 1)[0] for k in kinds} <= {owner}, (entity, record_id, kinds)


def test_a_kitchens_timer_exists_only_for_kitchens_leads(world):
    from app.store.timers import Timer

    w = world
    leads = [
        w.lead_from("webform", title=f"Форма {i}", name="Клиент", phone=f"+7911000010{i}")
        for i in range(3)
    ]
    call = w.lead_from("call", title="Звонок", name="Анна", phone="+79110000200")
    w.settle()
    with w.services.session() as s:
        sos = {t.record_id for t in s.query(Timer).filter(Timer.kind.like("kitchens.%")).all()}
    assert sos == {call}
    assert not sos & set(leads)


def _open(w, code, placement, record_id):
    (client_id,) = list(w.emu.portal.core.apps)
    handler = next(p.handler for p in w.emu.portal.core.placements if p.handler.endswith(code))
    body = {"placement": placement, "options": {"ID": str(record_id)}, "user_id": 1}
    answer = w.emu.admin.post(f"apps/{client_id}/open", {**body, "url": handler})
    assert answer["status"] == 200, answer["body"][:300]
    return answer["body"]


def quiet(body):
    return "is not part of this tab" in body or "не относится к процессу" in body


def test_tabs_answer_quietly_on_another_playbooks_record(world):
    """A detail tab shows on every lead/deal (``placement.bind`` cannot limit it to a
    pipeline: api-reference/widgets/crm/detail-tab.md, "OPTIONS When Registering via
    placement.bind"); the page answers one quiet line for other playbooks' records."""
    w = world
    webform = w.lead_from("webform", title="Заявка", name="Олег", phone="+79110000301")
    call = w.lead_from("call", title="Звонок", name="Анна", phone="+79110000302")
    w.settle()
    assert quiet(_open(w, "/measurement", "CRM_LEAD_DETAIL_TAB", webform))
    assert not quiet(_open(w, "/measurement", "CRM_LEAD_DETAIL_TAB", call))
    assert quiet(_open(w, "/lead_object", "CRM_LEAD_DETAIL_TAB", call))
    assert not quiet(_open(w, "/lead_object", "CRM_LEAD_DETAIL_TAB", webform))
    order = deal(w, "eshop.orders", "eshop.order.new", "Заказ №1002")
    supply = deal(w, "b2b.sales", "b2b.sales.new", "Поставка")
    assert quiet(_open(w, "/order_timing", "CRM_DEAL_DETAIL_TAB", supply))
    assert not quiet(_open(w, "/order_timing", "CRM_DEAL_DETAIL_TAB", order))
