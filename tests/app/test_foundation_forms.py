"""PHP bracket forms → nested dicts and lists, raw or percent-encoded, with limits."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from werkzeug.datastructures import MultiDict

from app.handlers.forms import FormError, parse_body, parse_bracket_form

ROBOT = (
    "workflow_id=6478&code=score&document_id%5B0%5D=crm&document_id%5B1%5D=CCrmDocumentLead"
    "&document_id%5B2%5D=LEAD_15&properties%5Barea%5D=120&properties%5Btags%5D%5B%5D=a"
    "&properties%5Btags%5D%5B%5D=b&auth%5Bmember_id%5D=m1&ts=1"
)


def test_nested_dicts_and_lists():
    form = parse_body(ROBOT.encode())
    assert form["document_id"] == ["crm", "CCrmDocumentLead", "LEAD_15"]
    assert form["properties"] == {"area": "120", "tags": ["a", "b"]}
    assert form["auth"] == {"member_id": "m1"}


def test_raw_and_percent_encoded_keys_are_the_same():
    raw = parse_bracket_form(MultiDict([("auth[domain]", "x"), ("data[FIELDS][ID]", "5")]))
    encoded = parse_bracket_form([("auth%5Bdomain%5D", "x"), ("data%5BFIELDS%5D%5BID%5D", "5")])
    assert raw == encoded == {"auth": {"domain": "x"}, "data": {"FIELDS": {"ID": "5"}}}


def test_non_contiguous_numeric_keys_stay_a_dict():
    assert parse_bracket_form([("a[0]", "x"), ("a[2]", "y")]) == {"a": {"0": "x", "2": "y"}}


@pytest.mark.parametrize(
    "pairs",
    [
        [("a[b]", "1"), ("a[b][c]", "2")],  # value and container
        [("a[b][c]", "2"), ("a[b]", "1")],
        [("[x]", "1")],  # no name
        [("a" + "[x]" * 9, "1")],  # too deep
    ],
)
def test_malformed_forms_raise(pairs):
    with pytest.raises(FormError):
        parse_bracket_form(pairs)


def test_limits_on_keys_and_body_size():
    with pytest.raises(FormError):
        parse_bracket_form([(f"k{i}", "v") for i in range(1001)])
    with pytest.raises(FormError):
        parse_body(b"a=" + b"x" * 300_000)
    assert parse_bracket_form(parse_qsl("a[]=1&a[]=2")) == {"a": ["1", "2"]}
