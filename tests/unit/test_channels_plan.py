"""The pure channel decision (app.channels.plan): order, fallbacks, refusals with reasons."""

from __future__ import annotations

from app.channels.plan import Client, Message, Portal, decide, order, render

SMS_ON = Portal(sms=True)
EMAIL = (("ivan@mail.ru", "contact", 7),)


def test_order_is_the_setting_else_the_rules_channel_first():
    assert order("email", None) == ["email", "messenger", "sms"]
    assert order("sms", []) == ["sms", "messenger", "email"]
    assert order("email", ["SMS", "email", "fax", "sms"]) == ["sms", "email"]


def test_a_client_without_a_phone_gets_the_email():
    plan = decide(Message("sms", "Замер", "Привет"), Client(emails=EMAIL), SMS_ON, {})
    assert (plan.channel, plan.recipient, plan.owner) == ("email", "ivan@mail.ru", ("contact", 7))
    assert plan.passed == ("sms: нет телефона", "messenger: у клиента нет чата открытой линии")


def test_sms_goes_to_the_normalised_phone_and_skips_invalid_ones():
    client = Client(phones=("12-34", "8 (912) 345-67-89"))
    plan = decide(Message("sms", "s", "t"), client, SMS_ON, {})
    assert (plan.channel, plan.recipient) == ("sms", "+79123456789")


def test_an_invalid_phone_and_email_refuse_with_the_bad_values():
    client = Client(phones=("12-34",), emails=(("ivan@", "lead", 1),))
    plan = decide(Message("sms", "s", "t"), client, SMS_ON, {"message_channels": ["sms", "email"]})
    assert plan.channel is None
    assert (
        "sms: неверный адрес «12-34»" in plan.reason
        and "email: неверный адрес «ivan@»" in plan.reason
    )


def test_messenger_first_when_the_client_has_an_open_line_chat():
    client = Client(phones=("+79123456789",), chats=(("1763", "contact", 7),))
    plan = decide(
        Message("sms", "s", "t"), client, SMS_ON, {"message_channels": ["messenger", "sms"]}
    )
    assert (plan.channel, plan.recipient, plan.owner) == ("messenger", "1763", ("contact", 7))
    # the chat unusable while sending: the next channel
    plan = decide(Message("sms", "s", "t"), client, SMS_ON, {"message_channels": ["messenger", "sms"]},
                  skip=["messenger"])  # fmt: skip
    assert plan.channel == "sms"


def test_no_sms_provider_is_a_reason_not_a_crash():
    plan = decide(
        Message("sms", "s", "t"),
        Client(phones=("+79123456789",)),
        Portal(),
        {"message_channels": ["sms"]},
    )
    assert plan.channel is None and plan.reason == "sms: SMS-провайдер не настроен"


def test_do_not_contact_wins_over_everything():
    client = Client(phones=("+79123456789",), emails=EMAIL, do_not_contact=True)
    plan = decide(Message("sms", "s", "t"), client, SMS_ON, {})
    assert plan.channel is None and "не беспокоить" in plan.reason


def test_templates_from_settings_with_the_records_fields():
    values = {"title": "Кухня", "UF_CRM_KT_ADDRESS": "Ленина 1"}
    settings = {"message_templates": {"measure": "Замер «{title}» по адресу {UF_CRM_KT_ADDRESS}"}}
    msg = Message("email", "Замер {title}", "default text", template="measure")
    plan = decide(msg, Client(emails=EMAIL, values=values), SMS_ON, settings)
    assert plan.text == "Замер «Кухня» по адресу Ленина 1" and plan.subject == "Замер Кухня"


def test_an_unresolved_placeholder_refuses_naming_it():
    msg = Message("email", "s", "Здравствуйте, {client_name}! Срок {due}.")
    plan = decide(msg, Client(emails=EMAIL, values={"client_name": "Иван"}), SMS_ON, {})
    assert plan.channel is None and plan.reason == "в шаблоне не заполнены поля: {due}"


def test_render_reports_every_missing_name_once():
    text, missing = render("{a} {b} {a} {c}", {"b": 2})
    assert text == "{a} 2 {a} {c}" and missing == ["a", "a", "c"]


def test_sms_gateway_outcomes_against_the_fake_provider():
    """SMS.ru answers (https://sms.ru/api/send): accepted → sms_id; wrong key or a blocked
    number → Rejected (not sent); HTTP 5xx → Transient; a bad URL → Rejected, nothing sent."""
    import pytest

    from app.channels import smsru
    from tests.support.fake_smsru import FakeSmsRu

    fake = FakeSmsRu("k")
    try:
        gw = smsru.Gateway("k", "SHOP", fake.url, timeout=5)
        assert gw.send("+79123456789", "Привет") == fake.received[0]["sms_id"]
        with pytest.raises(smsru.Rejected, match="200"):
            smsru.Gateway("wrong", "", fake.url).send("+79123456789", "x")
        fake.blocked.add("79000000000")
        with pytest.raises(smsru.Rejected, match="207"):
            gw.send("+79000000000", "x")
        fake.fail_next = 1
        with pytest.raises(smsru.Transient, match="503"):
            gw.send("+79123456789", "x")
        with pytest.raises(smsru.Rejected, match="invalid"):
            smsru.Gateway("k", "", "not a url").send("+79123456789", "x")
        assert [r["msg"] for r in fake.received] == ["Привет"]
    finally:
        fake.stop()
