"""The emulator's messaging as the official docs describe it, over REST; what it "sent" is
read from ``GET /_emu/sent``.

* e-mail: ``tutorials/crm/how-to-add-crm-objects/how-to-send-email.md`` and
  ``api-reference/crm/timeline/activities/activity-base/crm-activity-add.md``;
* app activities: ``api-reference/crm/timeline/activities/app-embedding/index.md``;
* open lines: ``api-reference/imopenlines/openlines/chats/imopenlines-crm-chat-get.md``,
  ``.../chats/imopenlines-crm-chat-get-last-id.md``, ``.../messages/imopenlines-crm-message-add.md``;
* chats: ``api-reference/chats/im-chat-add.md``, ``api-reference/chats/messages/im-message-add.md``.
"""

from __future__ import annotations

import pytest
import requests


@pytest.fixture
def portal(emulator):
    hook = emulator.webhook_url(user_id=1)

    def call(method, params=None, url=hook):
        return requests.post(url + method, json=params or {}, timeout=30).json()

    lead = emulator.admin.post(
        "crm/lead", {"source": "manual", "title": "T", "email": "ivan@mail.ru"}
    )
    return emulator, call, int(lead["id"])


def _email(lead, **over):
    fields = {
        "OWNER_TYPE_ID": 1, "OWNER_ID": lead, "TYPE_ID": 4, "DIRECTION": 2, "COMPLETED": "Y",
        "SUBJECT": "Тема", "DESCRIPTION": "Текст", "RESPONSIBLE_ID": 1,
        "COMMUNICATIONS": [{"VALUE": "ivan@mail.ru", "ENTITY_ID": lead, "ENTITY_TYPE_ID": 1}],
    }  # fmt: skip
    fields.update(over)
    return {"fields": fields}


def _activities(call, lead):
    return call("crm.activity.list", {"filter": {"OWNER_TYPE_ID": 1, "OWNER_ID": lead}})["result"]


def test_email_without_a_mailbox_is_created_but_not_sent(portal):
    emu, call, lead = portal
    reply = call("crm.activity.add", _email(lead))
    assert reply["error_description"] == 'Email send error. "From" is not found'
    assert [a["SUBJECT"] for a in _activities(call, lead)] == ["Тема"]  # the activity stays
    assert emu.admin.get("sent") == []


def test_email_is_sent_only_when_type_direction_and_completed_come_together(portal):
    emu, call, lead = portal
    emu.admin.post("mail/mailboxes", {"user_id": 1, "email": "manager@shop.ru"})
    assert "result" in call("crm.activity.add", _email(lead, COMPLETED="N"))
    assert "result" in call("crm.activity.add", _email(lead, DIRECTION=1))
    assert emu.admin.get("sent") == []
    sent_id = call("crm.activity.add", _email(lead))["result"]
    (mail,) = emu.admin.get("sent", kind="email")
    assert mail["activity_id"] == sent_id and mail["sender"] == "manager@shop.ru"
    assert (mail["to"], mail["subject"], mail["body"]) == (["ivan@mail.ru"], "Тема", "Текст")


def test_email_sender_from_settings_then_shared_mailbox_and_bad_addresses(portal):
    emu, call, lead = portal
    given = {"MESSAGE_FROM": "Иван Петров <ivan.petrov@shop.ru>"}
    assert "result" in call("crm.activity.add", _email(lead, SETTINGS=given))
    emu.admin.post("mail/mailboxes", {"shared": True, "email": "crm@shop.ru"})
    assert "result" in call("crm.activity.add", _email(lead))
    assert [m["sender"] for m in emu.admin.get("sent")] == ["ivan.petrov@shop.ru", "crm@shop.ru"]
    empty = [{"VALUE": "", "ENTITY_ID": lead, "ENTITY_TYPE_ID": 1}]
    reply = call("crm.activity.add", _email(lead, COMMUNICATIONS=empty))
    assert reply["error_description"] in (
        'Email send error. "To" is not found',
        "The field COMMUNICATIONS is required.",
    )
    bad = [{"VALUE": "ivan@", "ENTITY_ID": lead, "ENTITY_TYPE_ID": 1}]
    reply = call("crm.activity.add", _email(lead, COMMUNICATIONS=bad))
    assert reply["error_description"] == "Email send error. Invalid email is specified"
    assert len(emu.admin.get("sent")) == 2


def test_app_activity_needs_an_application_context(portal, installed_app):
    emu, call, lead = portal
    fields = {"OWNER_TYPE_ID": 1, "OWNER_ID": lead, "PROVIDER_ID": "REST_APP",
              "PROVIDER_TYPE_ID": "SMS", "SUBJECT": "SMS", "COMPLETED": "Y"}  # fmt: skip
    assert call("crm.activity.add", {"fields": fields})["error_description"] == (
        "Application context required"
    )
    made = installed_app["rest"].raw("crm.activity.add", {"fields": fields}).json()
    (act,) = [a for a in _activities(call, lead) if a["ID"] == str(made["result"])]
    assert act["PROVIDER_ID"] == "REST_APP" and act["TYPE_ID"] == "6"


def test_open_line_chats_bound_to_crm_records_and_messages_in_them(portal):
    emu, call, lead = portal
    chat = emu.admin.post(
        "openlines/chats", {"entity_type": "lead", "entity_id": lead, "users": [1]}
    )
    got = call("imopenlines.crm.chat.get", {"CRM_ENTITY_TYPE": "lead", "CRM_ENTITY": lead})
    assert got["result"] == [
        {
            "CHAT_ID": str(chat["CHAT_ID"]),
            "CONNECTOR_ID": "telegrambot",
            "CONNECTOR_TITLE": "Telegrambot",
        }
    ]
    last = call("imopenlines.crm.chat.getLastId", {"CRM_ENTITY_TYPE": "lead", "CRM_ENTITY": lead})
    assert last["result"] == chat["CHAT_ID"]
    base = {
        "CRM_ENTITY_TYPE": "lead",
        "CRM_ENTITY": lead,
        "CHAT_ID": chat["CHAT_ID"],
        "MESSAGE": "Привет",
    }
    sent = call("imopenlines.crm.message.add", {**base, "USER_ID": 1})
    assert isinstance(sent["result"], int)
    assert call("imopenlines.crm.message.add", {**base, "USER_ID": 2})["error"] == "CANCELED"
    other = {**base, "USER_ID": 1, "CRM_ENTITY": lead + 1}
    assert call("imopenlines.crm.message.add", other)["error"] == "CHAT_NOT_IN_CRM"
    missing = {k: v for k, v in base.items() if k != "MESSAGE"}
    reply = call("imopenlines.crm.message.add", {**missing, "USER_ID": 1})
    assert (reply["error"], reply["error_description"]) == (
        "ERROR_ARGUMENT",
        "Argument 'MESSAGE' is null or empty",
    )
    (row,) = emu.admin.get("sent", kind="openline")
    assert (row["message_id"], row["text"], row["crm_entity"]) == (sent["result"], "Привет", lead)
    emu.admin.post("openlines/close", {"chat_id": chat["CHAT_ID"]})
    assert (
        call("imopenlines.crm.chat.get", {"CRM_ENTITY_TYPE": "lead", "CRM_ENTITY": lead})["result"]
        == []
    )
    both = {"CRM_ENTITY_TYPE": "lead", "CRM_ENTITY": lead, "ACTIVE_ONLY": "N"}
    assert len(call("imopenlines.crm.chat.get", both)["result"]) == 1


def test_open_lines_need_their_scope(emulator):
    hook = emulator.webhook_url(user_id=1, scopes=["crm"])
    body = {"CRM_ENTITY_TYPE": "lead", "CRM_ENTITY": 1}
    reply = requests.post(hook + "imopenlines.crm.chat.get", json=body, timeout=30)
    assert reply.status_code == 403 and reply.json()["error"] == "insufficient_scope"


def test_group_chat_messages(portal):
    emu, call, _lead = portal
    chat = call("im.chat.add", {"TITLE": "Заказы", "USERS": [2]})["result"]
    sent = call("im.message.add", {"DIALOG_ID": f"chat{chat}", "MESSAGE": "Заказ завис"})["result"]
    (row,) = emu.admin.get("sent", kind="chat")
    assert (row["message_id"], row["dialog_id"], row["text"]) == (
        sent,
        f"chat{chat}",
        "Заказ завис",
    )
    assert call("im.message.add", {"DIALOG_ID": "chat999999", "MESSAGE": "x"})["error"] == "CHAT_ID"
    assert (
        call("im.message.add", {"DIALOG_ID": f"chat{chat}", "MESSAGE": ""})["error"]
        == "MESSAGE_EMPTY"
    )
    outsider = emu.webhook_url(user_id=3)
    reply = call("im.message.add", {"DIALOG_ID": f"chat{chat}", "MESSAGE": "x"}, url=outsider)
    assert reply["error"] == "ACCESS_ERROR"
    assert (
        call("im.message.add", {"DIALOG_ID": "99999", "MESSAGE": "x"})["error"] == "USER_NOT_FOUND"
    )
    (listed,) = emu.admin.get("chats")
    assert listed["TITLE"] == "Заказы" and listed["USERS"] == [1, 2]
