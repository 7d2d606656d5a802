"""Client messages end to end at job level: a MessageClient applied → one outbox row → the
send job on a real RQ worker → what the emulated portal or the fake SMS.ru gateway received.

Docs: e-mail — ``tutorials/crm/how-to-add-crm-objects/how-to-send-email.md`` (TYPE_ID 4,
DIRECTION 2, COMPLETED Y; ``Email send error. "From" is not found`` without a mailbox);
open lines — ``api-reference/imopenlines/openlines/chats/imopenlines-crm-chat-get.md``,
``.../messages/imopenlines-crm-message-add.md``; SMS — the portal has no sending method for
apps (``api-reference/messageservice/index.md``: providers only), so the SMS.ru gateway, and
the SMS recorded as an app activity (``.../activities/app-embedding/index.md``; in webhook
mode the portal answers ``Application context required`` and a timeline comment records it).
"""

from __future__ import annotations

import pytest

from app.channels.jobs import send_message
from app.store import outbox
from tests.app._channels_world import channels_world


@pytest.fixture
def world(tmp_path, redis_url, database_url):
    yield from channels_world(tmp_path, redis_url, database_url)


def test_sms_goes_through_the_gateway_and_is_recorded_on_the_lead(world):
    lid = world.lead(phone="8 (912) 345-67-89", email="ivan@mail.ru")
    world.message(lid, "sms", "Замер подтверждён")
    world.work()
    (got,) = world.sms.received
    assert (
        got["to"] == "79123456789" and got["msg"] == "Замер подтверждён" and got["from"] == "SHOP"
    )
    (row,) = world.rows(lid)
    assert (row["state"], row["channel"], row["recipient"]) == ("sent", "sms", "+79123456789")
    assert row["provider_id"] == got["sms_id"]
    # webhook mode: no app context for a REST_APP activity, so a timeline comment records it
    assert row["detail"]["recorded"].startswith("comment:")
    assert any("Замер подтверждён" in c and "+79123456789" in c for c in world.comments(lid))
    assert not world.sent()  # nothing went out through the portal


def test_a_client_without_a_phone_gets_the_email_as_an_activity_in_the_card(world):
    lid = world.lead(email="ivan@mail.ru")
    world.message(lid, "sms", "Ваш заказ готов", subject="Заказ")
    world.work()
    assert not world.sms.received
    (mail,) = world.sent("email")
    assert mail["to"] == ["ivan@mail.ru"] and mail["sender"] == "manager@shop.ru"
    assert (mail["owner_type_id"], mail["owner_id"], mail["subject"]) == (1, lid, "Заказ")
    (act,) = [a for a in world.activities(lid) if a["TYPE_ID"] == "4"]
    assert (
        act["DIRECTION"] == "2"
        and act["COMPLETED"] == "Y"
        and act["ID"] == str(mail["activity_id"])
    )
    (row,) = world.rows(lid)
    assert row["state"] == "sent" and row["channel"] == "email"
    assert "sms: нет телефона" in row["detail"]["passed"]


def test_no_mailbox_is_the_portals_refusal_recorded_and_told_on_the_record(world):
    world.emu.portal.messaging.mailboxes.clear()
    lid = world.lead(email="ivan@mail.ru")
    world.message(lid, "email", "Письмо")
    world.work()
    (row,) = world.rows(lid)
    assert row["state"] == "failed" and '"From" is not found' in row["error"]
    assert any("не отправлено" in c and '"From" is not found' in c for c in world.comments(lid))
    assert not world.sent("email")
    # the portal created the activity without sending it: removed, the card shows no e-mail
    assert not [a for a in world.activities(lid) if a["TYPE_ID"] == "4"]


def test_messenger_first_into_the_clients_open_line_chat(world):
    lid = world.lead(phone="+79123456789")
    chat = world.emu.admin.post(
        "openlines/chats", {"entity_type": "lead", "entity_id": lid, "users": [1]}
    )
    world.settings(message_channels=["messenger", "sms", "email"])
    world.message(lid, "sms", "Напоминаем о визите")
    world.work()
    (msg,) = world.sent("openline")
    assert (msg["chat_id"], msg["text"], msg["user_id"]) == (
        chat["CHAT_ID"],
        "Напоминаем о визите",
        1,
    )
    assert not world.sms.received
    assert world.rows(lid)[0]["channel"] == "messenger"


def test_an_open_line_the_sender_cannot_write_to_falls_through_to_sms(world):
    lid = world.lead(phone="+79123456789")
    world.emu.admin.post("openlines/chats", {"entity_type": "lead", "entity_id": lid, "users": [9]})
    world.settings(message_channels=["messenger", "sms"])
    world.message(lid, "sms", "Текст")
    world.work()
    assert not world.sent("openline") and len(world.sms.received) == 1
    (row,) = world.rows(lid)
    assert row["channel"] == "sms" and "You cannot send messages" in row["error"]


@pytest.mark.parametrize(
    "fields, text, settings, reason",
    [
        ({}, "Текст", {}, "нет телефона"),
        ({"phone": "12-34"}, "Текст", {"message_channels": ["sms"]}, "неверный адрес «12-34»"),
        ({"email": "ivan@"}, "Текст", {"message_channels": ["email"]}, "неверный адрес «ivan@»"),
        ({"phone": "+79123456789"}, "Срок {due}", {}, "не заполнены поля: {due}"),
        ({"phone": "+79123456789", "sourceDescription": "Y"}, "Текст",
         {"do_not_contact_field": "sourceDescription"}, "не беспокоить"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_a_reason_on_the_row_and_the_record(
    world, fields, text, settings, reason
):
    if settings:
        world.settings(**settings)
    lid = world.lead(**fields)
    world.message(lid, "sms", text)
    world.work()
    (row,) = world.rows(lid)
    assert row["state"] == "refused" and reason in row["error"]
    assert any("не отправлено" in c and reason in c for c in world.comments(lid))
    assert not world.sms.received and not world.sent()


def test_replays_of_the_same_promise_send_one_message(world):
    lid = world.lead(phone="+79123456789")
    for _ in range(3):
        world.message(lid, "sms", "Один раз", cause="same-cause")
        world.work()
    assert world.sms.texts() == ["Один раз"]
    assert len(world.rows(lid)) == 1
    world.message(lid, "sms", "Один раз", cause="another-change")  # a new promise
    world.work()
    assert world.sms.texts() == ["Один раз", "Один раз"]


def test_gateway_down_is_retried_then_reported_after_the_last_attempt(world):
    lid = world.lead(phone="+79123456789")
    world.sms.fail_next = 10**6
    world.message(lid, "sms", "Текст")
    world.work()  # first attempt: HTTP 503 → back to queued, RQ schedules a retry
    (row,) = world.rows(lid)
    assert row["state"] == "queued" and "503" in row["error"] and row["attempts"] == 1
    registry = world.services.queue("events").scheduled_job_registry
    assert registry.count == 1  # the retry waits with its backoff
    # the last attempt (outside RQ = no retries left) gives up and says so on the record
    from app.channels.metrics import MESSAGES

    failed = MESSAGES.labels("sms", "failed")
    before = failed._value.get()
    assert send_message("member-channels", row["id"]) == outbox.FAILED
    assert failed._value.get() == before + 1
    (row,) = world.rows(lid)
    assert row["state"] == "failed" and row["attempts"] == 2
    assert any("после всех попыток" in c and "503" in c for c in world.comments(lid))
    assert not world.sms.received


def test_the_retry_sends_when_the_gateway_is_back(world):
    lid = world.lead(phone="+79123456789")
    world.sms.fail_next = 1
    world.message(lid, "sms", "Текст")
    world.work()
    (row,) = world.rows(lid)
    assert row["state"] == "queued"
    # what the scheduled retry runs:
    import rq

    job = world.services.queue("events").scheduled_job_registry.get_job_ids()[0]
    job = rq.job.Job.fetch(
        job, connection=world.services.redis, serializer=rq.serializers.JSONSerializer
    )
    assert job.args == ["member-channels", row["id"]] or tuple(job.args) == (
        "member-channels",
        row["id"],
    )
    assert send_message(*job.args) == outbox.SENT
    assert world.sms.texts() == ["Текст"]


def test_templates_from_settings_are_named_by_the_rule_and_filled_from_the_record(world):
    """``message_templates`` overrides the rule's text (key: the rule's template, else its
    name); ``{field}`` placeholders come from the record and its contact."""
    world.settings(
        message_templates={"test_message": "{client_name}, ваша заявка «{title}» принята"}
    )
    lid = world.lead(title="Кухня", name="Анна", phone="+79123456789")
    world.message(lid, "sms", "текст правила")
    world.work()
    assert world.sms.texts() == ["Анна, ваша заявка «Кухня» принята"]
    assert world.rows(lid)[0]["text"] == "Анна, ваша заявка «Кухня» принята"


def test_a_lost_send_job_is_requeued_by_the_sweep(world):
    """Redis lost the job after the row was committed: the clock's sweep queues it again."""
    from datetime import timedelta

    from app.channels.dispatch import sweep
    from app.store.base import utcnow
    from app.store.outbox import OutboxMessage

    lid = world.lead(phone="+79123456789")
    world.message(lid, "sms", "Потерянное")
    world.services.queue("events").empty()  # the job is gone
    assert sweep(world.services, force=True) == 0  # too fresh: its job may still be queued
    with world.services.session() as s:
        s.query(OutboxMessage).update({"updated_at": utcnow() - timedelta(minutes=11)})
        s.commit()
    assert sweep(world.services, force=True) == 1
    world.work()
    assert world.sms.texts() == ["Потерянное"] and world.rows(lid)[0]["state"] == "sent"


def test_without_the_imopenlines_scope_the_messenger_is_passed_over(world):
    """A webhook without ``imopenlines``: ``imopenlines.crm.chat.get`` answers 403
    insufficient_scope, so open lines are unavailable and the next channel sends."""
    from app.store import installations

    hook = world.emu.webhook_url(user_id=1, scopes=["crm", "im", "user", "department"])
    with world.services.session() as s:
        installations.upsert_verified(
            s, "member-channels", domain=world.emu.domain, auth_mode="webhook",
            webhook_url=hook, playbooks=["metal"],
        )  # fmt: skip
        s.commit()
    lid = world.lead(phone="+79123456789")
    world.emu.admin.post("openlines/chats", {"entity_type": "lead", "entity_id": lid, "users": [1]})
    world.settings(message_channels=["messenger", "sms"])
    world.message(lid, "sms", "Текст")
    world.work()
    assert not world.sent("openline") and world.sms.texts() == ["Текст"]
    assert (
        "messenger: открытые линии недоступны приложению" in world.rows(lid)[0]["detail"]["passed"]
    )


def _chat_lookups(world):
    return world.emu.admin.get("requests")["calls"].get("imopenlines.crm.chat.get", 0)


def test_open_lines_are_asked_only_when_the_messenger_could_matter(world):
    """The rule's channel reaches the client: no open-line lookups. It fails on the portal
    (no mailbox): the chats are looked up then, and the messenger carries the message."""
    lid = world.lead(phone="+79123456789")
    world.message(lid, "sms", "По SMS")
    world.work()
    assert world.sms.texts() == ["По SMS"] and _chat_lookups(world) == 0

    world.emu.portal.messaging.mailboxes.clear()
    other = world.lead(email="ivan@mail.ru")
    chat = world.emu.admin.post(
        "openlines/chats", {"entity_type": "lead", "entity_id": other, "users": [1]}
    )
    world.message(other, "email", "Письмо или чат")
    world.work()
    (msg,) = world.sent("openline")
    assert msg["chat_id"] == chat["CHAT_ID"] and msg["text"] == "Письмо или чат"
    (row,) = world.rows(other)
    assert row["channel"] == "messenger" and '"From" is not found' in row["error"]
    assert _chat_lookups(world) == 1


def _crashed_mid_email(world, lid):
    """The state a worker SIGKILLed inside crm.activity.add leaves: claimed, trying e-mail,
    its lease expired. Returns the row's key."""
    from app.store.outbox import OutboxMessage

    with world.services.session() as s:
        row = s.query(OutboxMessage).filter_by(record_id=lid).one()
        row.state, row.channel, row.attempts = "sending", "email", 1
        s.commit()
        return row.key


def test_an_email_interrupted_after_the_portal_took_it_is_found_not_resent(world):
    """``ORIGIN_ID`` carries the outbox key: the portal's activity proves the letter went out."""
    lid = world.lead(email="ivan@mail.ru")
    world.message(lid, "email", "Письмо")  # queued, not yet run
    key = _crashed_mid_email(world, lid)
    fields = {"OWNER_TYPE_ID": 1, "OWNER_ID": lid, "TYPE_ID": 4, "DIRECTION": 2, "COMPLETED": "Y",
              "SUBJECT": "Тема", "DESCRIPTION": "Письмо", "ORIGIN_ID": key,
              "COMMUNICATIONS": [{"VALUE": "ivan@mail.ru", "ENTITY_ID": lid, "ENTITY_TYPE_ID": 1}]}  # fmt: skip
    made = world.ctx().client.call("crm.activity.add", {"fields": fields})  # the dead job's call
    world.work()
    assert len(world.sent("email")) == 1
    (row,) = world.rows(lid)
    assert row["state"] == "sent" and row["provider_id"] == str(made)


def test_an_email_interrupted_before_the_portal_took_it_goes_out_once(world):
    lid = world.lead(email="ivan@mail.ru")
    world.message(lid, "email", "Письмо")
    _crashed_mid_email(world, lid)
    world.work()
    (mail,) = world.sent("email")
    assert mail["body"] == "Письмо"
    (row,) = world.rows(lid)
    assert (
        row["state"] == "sent"
        and row["attempts"] == 2
        and row["provider_id"] == str(mail["activity_id"])
    )
