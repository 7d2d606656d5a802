"""The metal playbook's rules as pure functions: (record, related, settings, now) → actions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from app.playbooks.metal import (
    rules_clients,
    rules_conversion,
    rules_deals,
    rules_failure,
    rules_fields,
    rules_objects,
    rules_routing,
)
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules.model import STAGE_ENTERED, Change, RuleContext
from app.rules.naming import PlainNaming

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
HEAD = 1
DIMS = {
    "UF_CRM_MT_WIDTH": 12.5,
    "UF_CRM_MT_LENGTH": 24,
    "UF_CRM_MT_HEIGHT": 6,
    "UF_CRM_MT_SITE": "Казань",
    "UF_CRM_MT_PURPOSE": "warehouse",
}
EMAIL = [{"typeId": "EMAIL", "valueType": "WORK", "value": "a@b.ru"}]


def ctx(entity, record, *, related=None, stage=None, settings=None, rid=7):
    change = Change("m", entity, rid, STAGE_ENTERED, "c", stage_to=stage, after=record)
    merged = {**defaults("metal"), **(settings or {})}
    return RuleContext(change, record, related or {}, merged, PlainNaming(), NOW)


def lead(**fields):
    return {"stageId": "metal.lead.unprocessed", "assignedById": HEAD, **fields}


def of(actions, kind):
    return [a for a in actions if isinstance(a, kind)]


def test_web_form_with_all_data_goes_to_head_data_complete_and_gets_its_object():
    record = lead(sourceId="WEBFORM", fm=EMAIL, title="Заявка", **DIMS)
    out = rules_routing.route_unprocessed(ctx("lead", record, related={}))
    assert [m.stage for m in of(out, A.MoveStage)] == ["metal.lead.data_complete"]
    created = of(out, A.CreateRecord)
    assert len(created) == 1 and created[0].entity == "metal.object"
    assert created[0].fields["UF_CRM_OBJ_AREA"] == 300.0
    assert created[0].fields["assignedById"] == HEAD
    assert created[0].link_from == ("lead", 7)
    link = of(out, A.LinkRecords)[0]
    assert link.child == ("lead", 7) and link.via == "UF_CRM_MT_OBJECT"


def test_web_form_missing_height_goes_to_data_missing_without_object():
    record = lead(sourceId="WEBFORM", fm=EMAIL, **{**DIMS, "UF_CRM_MT_HEIGHT": None})
    out = rules_routing.route_unprocessed(ctx("lead", record))
    assert [m.stage for m in of(out, A.MoveStage)] == ["metal.lead.data_missing"]
    assert not of(out, A.CreateRecord)


def test_duplicates_found_link_nothing_and_tell_the_responsible_which():
    record = lead(sourceId="WEBFORM", fm=EMAIL, **DIMS)
    related = {"metal.object_candidates": [11, 15]}
    out = rules_routing.route_unprocessed(ctx("lead", record, related=related))
    assert not of(out, A.CreateRecord) and not of(out, A.LinkRecords)
    notes = of(out, A.Notify)
    assert notes[0].user_ids == (HEAD,) and "#11" in notes[0].message and "#15" in notes[0].message


def test_repeat_client_goes_to_the_clients_responsible_handed_over():
    record = lead(sourceId="EMAIL", fm=EMAIL)
    client = {"kind": "contact", "id": 3, "responsible": 4, "by": ("email",)}
    out = rules_routing.route_unprocessed(ctx("lead", record, related={"metal.client": client}))
    assert of(out, A.UpdateFields)[0].fields == {"assignedById": 4}
    assert [m.stage for m in of(out, A.MoveStage)] == ["metal.lead.handed_over"]


def test_lead_to_a_managers_phone_stays_with_the_manager_handed_over():
    out = rules_routing.route_unprocessed(ctx("lead", lead(sourceId="CALL", assignedById=3)))
    assert not of(out, A.UpdateFields)
    assert [m.stage for m in of(out, A.MoveStage)] == ["metal.lead.handed_over"]


def test_shared_mailbox_unknown_client_stays_with_head_unprocessed():
    out = rules_routing.route_unprocessed(ctx("lead", lead(sourceId="EMAIL", fm=EMAIL)))
    assert not of(out, A.UpdateFields) and not of(out, A.MoveStage)


def test_routing_table_row_picks_the_responsible_and_hands_over():
    table = [{"name": "Татарстан", "responsible": 5, "regions": ["Татарстан"]}]
    record = lead(sourceId="EMAIL", UF_CRM_MT_REGION="татарстан")
    out = rules_routing.route_unprocessed(ctx("lead", record, settings={"routing_table": table}))
    assert of(out, A.UpdateFields)[0].fields == {"assignedById": 5}
    assert [m.stage for m in of(out, A.MoveStage)] == ["metal.lead.handed_over"]


def test_a_complete_web_form_matching_a_table_row_is_handed_over_after_its_object_check():
    """Seed 001: reassignment by region, area… → «Передан менеджеру», web forms included."""
    table = [{"name": "Казань", "responsible": 5, "regions": ["Татарстан"]}]
    record = lead(sourceId="WEBFORM", fm=EMAIL, UF_CRM_MT_REGION="Татарстан", **DIMS)
    out = rules_routing.route_unprocessed(ctx("lead", record, settings={"routing_table": table}))
    assert of(out, A.UpdateFields)[0].fields == {"assignedById": 5}
    assert [m.stage for m in of(out, A.MoveStage)] == ["metal.lead.handed_over"]
    (obj,) = [c for c in of(out, A.CreateRecord) if c.entity == "metal.object"]
    assert obj.fields["assignedById"] == 5  # the Object follows the table's manager


def test_the_shared_mailbox_is_told_by_the_address_the_lead_came_to():
    """Seed 001: «если лид пришёл с общей почты» — by the mailbox (``shared_mailboxes``),
    not by who is responsible."""
    settings = {"shared_mailboxes": ["Info@Metal.ru"]}
    shared = lead(sourceId="EMAIL", sourceDescription="Письмо на info@metal.ru", assignedById=4)
    kind = rules_routing.source_kind(shared, HEAD, settings["shared_mailboxes"])
    assert kind is rules_routing.SourceKind.SHARED_MAILBOX
    own = lead(sourceId="EMAIL", sourceDescription="ivanov@metal.ru", assignedById=HEAD)
    kind = rules_routing.source_kind(own, HEAD, settings["shared_mailboxes"])
    assert kind is rules_routing.SourceKind.PERSONAL_CHANNEL
    # no address recorded, or no setting: the responsible decides as before
    bare = lead(sourceId="EMAIL", assignedById=4)
    kind = rules_routing.source_kind(bare, HEAD, settings["shared_mailboxes"])
    assert kind is rules_routing.SourceKind.PERSONAL_CHANNEL
    assert rules_routing.source_kind(shared, HEAD, []) is rules_routing.SourceKind.PERSONAL_CHANNEL
    # the whole rule: a lead to the shared box with someone else responsible goes to the head
    out = rules_routing.route_unprocessed(ctx("lead", shared, settings=settings))
    assert of(out, A.UpdateFields)[0].fields == {"assignedById": HEAD}


def test_routing_rows_by_position_match_the_responsible_read_with_the_lead():
    # the event path sees the responsible's position (user.get in the lead's batch) like the
    # route_lead robot does: a row for the head's position routes, another position does not
    table = [
        {"name": "Склад", "responsible": 4, "positions": ["Кладовщик"]},
        {"name": "РОП", "responsible": 3, "positions": ["руководитель отдела продаж"]},
    ]
    record = lead(sourceId="EMAIL")
    head = {"responsible_user": {"ID": "1", "WORK_POSITION": "Руководитель отдела продаж"}}
    out = rules_routing.route_unprocessed(
        ctx("lead", record, related=head, settings={"routing_table": table})
    )
    assert of(out, A.UpdateFields)[0].fields == {"assignedById": 3}
    unknown = rules_routing.route_unprocessed(
        ctx("lead", record, settings={"routing_table": table})
    )
    assert not of(unknown, A.UpdateFields)  # position unknown: no position row matches
    assert rules_routing.RULES[0].needs == (
        "metal.client",
        "metal.object_candidates",
        "responsible_user",
    )


def test_area_and_title_of_a_new_lead():
    record = lead(sourceId="WEBFORM", **DIMS)
    out = rules_fields.fill_new(ctx("lead", record))
    fields = out[0].fields
    assert fields["UF_CRM_MT_AREA"] == 300.0
    assert fields["title"] == "Веб-форма · warehouse 300 м² · Казань"


def test_area_recomputed_only_when_it_changes():
    same = lead(**DIMS, UF_CRM_MT_AREA="300.00")
    assert rules_fields.recompute(ctx("lead", same)) == []
    wider = lead(**{**DIMS, "UF_CRM_MT_WIDTH": 10}, UF_CRM_MT_AREA=300)
    assert rules_fields.recompute(ctx("lead", wider))[0].fields == {"UF_CRM_MT_AREA": 240.0}


def test_deal_tonnage_from_the_density_setting():
    deal = {"UF_CRM_MT_LENGTH": 24, "UF_CRM_MT_WIDTH": 12.5}
    fields = rules_fields.recompute(ctx("deal", deal))[0].fields
    assert fields == {"UF_CRM_MT_AREA": 300.0, "UF_CRM_MT_TONNAGE": 10.5}


def test_object_responsible_follows_the_lead():
    c = ctx("lead", lead(assignedById=9), related={"metal.linked_objects": [3, 4]})
    out = rules_objects.follow_responsible(c)
    assert [(a.entity, a.record_id, a.fields) for a in out] == [
        ("metal.object", 3, {"assignedById": 9}),
        ("metal.object", 4, {"assignedById": 9}),
    ]


def test_refusal_letter_uses_the_configured_template():
    templates = {"metal.lead.declined": "Увы, «{title}» не берём", "metal.lead.not_our_product": ""}
    c = ctx(
        "lead",
        lead(title="Ангар"),
        stage="metal.lead.declined",
        settings={"refusal_templates": templates},
    )
    letter = rules_failure.refusal_letter(c)[0]
    assert letter.channel == "email" and letter.text == "Увы, «Ангар» не берём"
    c2 = ctx("lead", lead(title="Ангар"), stage="metal.lead.not_our_product")
    assert "ассортимент" in rules_failure.refusal_letter(c2)[0].text


def test_deal_starting_in_eight_months_is_deferred_and_the_cadence_starts():
    start = (NOW.date() + timedelta(days=240)).isoformat()
    out = rules_deals.deferred_check(ctx("deal", {"UF_CRM_MT_START_DATE": start}))
    assert [m.stage for m in of(out, A.MoveStage)] == ["metal.deal.deferred"]
    timer = of(out, A.StartTimer)[0]
    assert timer.kind == "metal.deferred" and timer.due_at == NOW + timedelta(days=60)


def test_deal_starting_in_three_months_stays_in_negotiation():
    start = date(2027, 2, 20).isoformat()
    assert rules_deals.deferred_check(ctx("deal", {"UF_CRM_MT_START_DATE": start})) == []


def test_client_back_resumes_each_deferred_deal_with_a_task_and_stops_its_cadence():
    deals = [{"id": 5, "responsible": 4, "title": "Склад"}]
    out = rules_deals.client_came_back(ctx("activity", {}, related={"metal.deferred_deals": deals}))
    assert of(out, A.CancelTimer)[0].record == ("deal", 5)
    assert of(out, A.MoveStage)[0].stage == "metal.deal.resumed"
    task = of(out, A.CreateTask)[0]
    assert task.responsible_id == 4 and task.bind_to == ("deal", 5)


def test_our_own_outgoing_call_does_not_count_as_the_client_coming_back():
    deals = [{"id": 5, "responsible": 4, "title": "Склад"}]
    c = ctx("activity", {"DIRECTION": "2"}, related={"metal.deferred_deals": deals})
    assert rules_deals.client_came_back(c) == []


def test_company_responsible_propagates_to_contacts_that_differ():
    related = {"metal.company_contacts": {1: 5, 2: 6, 3: None}}
    out = rules_clients.company_to_contacts(ctx("company", {"assignedById": 5}, related=related))
    assert [(a.record_id, a.fields) for a in out] == [
        (2, {"assignedById": 5}),
        (3, {"assignedById": 5}),
    ]


def test_conversion_creates_deal_and_contact_and_moves_the_object():
    record = lead(title="Ангар", name="Иван", fm=EMAIL, UF_CRM_MT_OBJECT=12, **DIMS)
    out = rules_conversion.convert(ctx("lead", record, stage="metal.lead.converted"))
    created = {a.entity: a for a in of(out, A.CreateRecord)}
    assert created["deal"].fields["leadId"] == 7
    assert created["deal"].fields["UF_CRM_MT_WIDTH"] == 12.5
    assert created["contact"].fields["fm"][0]["value"] == "a@b.ru"
    moves = [(a.child, a.parent, a.via) for a in of(out, A.LinkRecords)]
    assert (("metal.object", 12), ("deal", A.Ref("deal")), None) in moves


def test_a_converted_deal_is_born_with_its_area_and_tonnage():
    """As deal_fill_new would leave a deal a person made: when the app's own deal is later
    taken for a new one (its ADD echo not known as ours: answer lost, Redis flushed — the
    chaos run's one differing deal), the rule finds nothing to change."""
    record = lead(title="Ангар", **DIMS)
    out = rules_conversion.convert(ctx("lead", record, stage="metal.lead.converted"))
    deal = next(a for a in of(out, A.CreateRecord) if a.entity == "deal").fields
    assert (deal["UF_CRM_MT_AREA"], deal["UF_CRM_MT_TONNAGE"]) == (300.0, 10.5)
    assert rules_fields.computed(deal, "deal", defaults("metal")) == {}
