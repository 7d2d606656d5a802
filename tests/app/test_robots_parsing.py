"""Edge parsing: document ids, typed properties, the robot call schema, the run table."""

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from marshmallow import ValidationError

from app.handlers.forms import parse_body
from app.robots.call import load_call
from app.robots.documents import DocumentError, parse_document
from app.robots.properties import PropertyError, parse_properties
from app.robots.spec import PropertySpec, RobotSpec
from tests.shared_docs import SHARED_PAYLOADS

PAYLOADS = SHARED_PAYLOADS
DYN = "Bitrix\\Crm\\Integration\\BizProc\\Document\\Dynamic"


@pytest.mark.parametrize(
    ("doc", "etid", "rid", "entity"),
    [
        (["crm", "CCrmDocumentLead", "LEAD_123"], 1, 123, "lead"),
        (["crm", "CCrmDocumentDeal", "DEAL_5"], 2, 5, "deal"),
        (["crm", "CCrmDocumentContact", "CONTACT_7"], 3, 7, "contact"),
        (["crm", "CCrmDocumentCompany", "COMPANY_7"], 4, 7, "company"),
        (["crm", DYN, "DYNAMIC_147_12"], 147, 12, "dynamic:147"),
        (["crm", "Bitrix\\Crm\\Integration\\BizProc\\Document\\SmartInvoice", "SMART_INVOICE_9"],
         31, 9, "dynamic:31"),
    ],
)  # fmt: skip
def test_document_forms(doc, etid, rid, entity):
    parsed = parse_document(doc)
    assert (parsed.entity_type_id, parsed.record_id, parsed.entity()) == (etid, rid, entity)


@pytest.mark.parametrize(
    "doc",
    [
        ["crm", "CCrmDocumentLead"],
        ["lists", "BizprocDocument", "iblock_164"],
        ["crm", "CCrmDocumentLead", "DEAL_5"],
        ["crm", "CCrmDocumentLead", "DYNAMIC_147_12"],
        ["crm", "CCrmDocumentLead", "LEAD_"],
    ],
)
def test_documents_we_cannot_use_raise_a_readable_error(doc):
    with pytest.raises(DocumentError) as err:
        parse_document(doc)
    assert "(" in str(err.value)  # Russian text with an English gloss


SPEC = RobotSpec(
    code="t",
    names={"ru": "t", "en": "t"},
    properties=(
        PropertySpec("amount", {"ru": "Сумма", "en": "Amount"}, "double", required=True),
        PropertySpec("count", {"ru": "Штук", "en": "Count"}, "int"),
        PropertySpec("notify", {"ru": "Уведомить", "en": "Notify"}, "bool"),
        PropertySpec("who", {"ru": "Кто", "en": "Who"}, "user", multiple=True),
        PropertySpec("when", {"ru": "Когда", "en": "When"}, "date"),
        PropertySpec("at", {"ru": "Время", "en": "At"}, "datetime"),
        PropertySpec("mode", {"ru": "Режим", "en": "Mode"}, "select", options={"fast": "Fast"}),
    ),
)


def test_externalized_strings_become_typed_values():
    got = parse_properties(
        SPEC,
        {
            "amount": "12,5",
            "count": "3",
            "notify": "Y",
            "who": ["user_5", "user_7"],
            "when": "22.11.2026",
            "at": "2026-11-22T10:30:00+03:00",
            "mode": "fast",
            "undeclared": "ignored",
        },
    )
    assert got["amount"] == Decimal("12.5") and got["count"] == 3 and got["notify"] is True
    assert got["who"] == [5, 7] and got["when"] == date(2026, 11, 22)
    assert isinstance(got["at"], datetime) and got["at"].hour == 10
    assert got["mode"] == "fast" and "undeclared" not in got


def test_every_bad_property_is_reported_at_once():
    with pytest.raises(PropertyError) as err:
        parse_properties(
            SPEC,
            {"amount": "", "count": "2,5", "notify": "maybe", "who": "boss", "when": "soon",
             "mode": "slow"},
        )  # fmt: skip
    problems = err.value.problems
    assert set(problems) == {"amount", "count", "notify", "who", "when", "mode"}
    assert "не заполнено" in problems["amount"] and "целое" in problems["count"]
    assert "user_" in problems["who"] and "fast" in problems["mode"]


def test_optional_empty_values_are_none_or_empty_lists():
    got = parse_properties(SPEC, {"amount": "1"})
    assert got["count"] is None and got["who"] == [] and got["notify"] is None


def _form(name):
    raw = (PAYLOADS / f"robot_handler_post_{name}.form-urlencoded.txt").read_text().strip()
    return parse_body(raw.encode())


def test_documented_payloads_load_into_calls_without_auth():
    lead = load_call("lead_score_robot", _form("lead"))
    assert lead.document_id == ("crm", "CCrmDocumentLead", "LEAD_123")
    assert (lead.wait_answer, lead.timeout_s, lead.ts, lead.user_id) == (True, 660, 1716494651, 1)
    assert lead.deadline.timestamp() == 1716494651 + 660
    assert lead.properties["responsible"] == "user_1"
    job = lead.to_job()
    assert "auth" not in job and "access_token" not in json.dumps(job)
    deal = load_call("lead_score_robot", _form("deal_no_wait"))
    assert (deal.wait_answer, deal.deadline) == (False, None)
    smart = load_call("lead_score_robot", _form("smart_process"))
    assert smart.document_id[1] == DYN and smart.document_id[2] == "DYNAMIC_147_12"


def test_a_call_for_another_robot_or_without_token_is_rejected():
    with pytest.raises(ValidationError):
        load_call("calc_area", _form("lead"))
    form = _form("lead")
    del form["event_token"]
    with pytest.raises(ValidationError):
        load_call("lead_score_robot", form)
