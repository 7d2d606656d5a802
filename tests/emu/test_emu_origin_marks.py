"""What the app tags its creates with, stored and found the way the docs say, and faults that
strike after the call ran (the write stays, the answer is lost) — ``app.rules.recovery``."""

import requests


def _call(hook, method, params):
    reply = requests.post(hook + method, json=params, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["result"]


def test_crm_items_keep_origin_fields_and_list_filters_on_them(emulator):
    """ORIGINATOR_ID / ORIGIN_ID: api-reference/crm/deals/crm-deal-add.md,
    crm/contacts/crm-contact-add.md; crm.item.list filters on any item field
    (api-reference/crm/universal/crm-item-list.md)."""
    hook = emulator.webhook_url()
    tagged = {"title": "D", "originatorId": "b24app.rules", "originId": "k1"}
    deal = _call(hook, "crm.item.add", {"entityTypeId": 2, "fields": tagged})["item"]
    _call(hook, "crm.item.add", {"entityTypeId": 2, "fields": {"title": "D"}})
    assert (deal["originatorId"], deal["originId"]) == ("b24app.rules", "k1")
    flt = {"originatorId": "b24app.rules", "originId": "k1"}
    found = _call(hook, "crm.item.list", {"entityTypeId": 2, "filter": flt, "select": ["*"]})
    assert [i["id"] for i in found["items"]] == [deal["id"]]
    flt["originId"] = "k2"
    assert _call(hook, "crm.item.list", {"entityTypeId": 2, "filter": flt})["items"] == []


def test_tasks_keep_xml_id_and_return_it_when_listed(emulator):
    """XML_ID: api-reference/tasks/tasks-task-get-fields.md (``xmlId`` in tasks/fields.md);
    tasks.task.list filters on TITLE and UF_CRM_TASK (api-reference/tasks/tasks-task-list.md)."""
    hook = emulator.webhook_url()
    fields = {"TITLE": "Call", "RESPONSIBLE_ID": 1, "UF_CRM_TASK": ["L_7"], "XML_ID": "b24:k"}
    task = _call(hook, "tasks.task.add", {"fields": fields})["task"]
    _call(hook, "tasks.task.add", {"fields": {**fields, "UF_CRM_TASK": ["L_8"], "XML_ID": "x"}})
    listed = _call(
        hook,
        "tasks.task.list",
        {"filter": {"TITLE": "Call", "UF_CRM_TASK": "L_7"}, "select": ["ID", "XML_ID"]},
    )["tasks"]
    assert [(t["id"], t["xmlId"]) for t in listed] == [(task["id"], "b24:k")]


def test_a_fault_after_the_call_keeps_its_effect_and_loses_the_answer(emulator):
    hook = emulator.webhook_url()
    emulator.admin.faults(fail_next=[{"method": "crm.item.add", "status": 500, "after": True}])
    reply = requests.post(
        hook + "crm.item.add", json={"entityTypeId": 2, "fields": {"title": "Lost answer"}}
    )
    assert (reply.status_code, reply.json()["error"]) == (500, "INTERNAL_SERVER_ERROR")
    flt = {"title": "Lost answer"}
    assert len(_call(hook, "crm.item.list", {"entityTypeId": 2, "filter": flt})["items"]) == 1
    # a refusal (503) is never "after": nothing is made
    emulator.admin.faults(fail_next=[{"method": "crm.item.add", "status": 503, "after": True}])
    reply = requests.post(hook + "crm.item.add", json={"entityTypeId": 2, "fields": flt})
    assert reply.status_code == 503
    assert len(_call(hook, "crm.item.list", {"entityTypeId": 2, "filter": flt})["items"]) == 1


def test_after_share_splits_drawn_500s_into_before_and_after(emulator):
    hook = emulator.webhook_url()
    emulator.admin.faults(
        error_rates={"500": 1.0}, after_share=1.0, methods=["crm.item.add"], seed=3
    )
    for n in range(3):
        reply = requests.post(
            hook + "crm.item.add", json={"entityTypeId": 2, "fields": {"title": f"S{n}"}}
        )
        assert reply.status_code == 500
    emulator.admin.faults()
    assert (
        len(_call(hook, "crm.item.list", {"entityTypeId": 2, "filter": {"%title": "S"}})["items"])
        == 3
    )


def test_smart_process_items_keep_xml_id_and_list_filters_on_it(emulator):
    """Smart-process items have no originatorId/originId but an ``xmlId``
    (api-reference/crm/universal/crm-item-fields.md)."""
    hook = emulator.webhook_url()
    etid = _call(hook, "crm.type.add", {"fields": {"title": "Objects"}})["type"]["entityTypeId"]
    item = _call(
        hook, "crm.item.add", {"entityTypeId": etid, "fields": {"title": "O", "xmlId": "b24:k"}}
    )["item"]
    _call(hook, "crm.item.add", {"entityTypeId": etid, "fields": {"title": "O"}})
    found = _call(hook, "crm.item.list", {"entityTypeId": etid, "filter": {"xmlId": "b24:k"}})
    assert [i["id"] for i in found["items"]] == [item["id"]]
