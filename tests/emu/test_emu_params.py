"""PHP bracket parsing and building, the way the portal reads requests and writes POSTs."""

from b24emu.params import build_query, flatten, parse_query


def test_nested_brackets_and_appends_decode_like_php_parse_str():
    parsed = parse_query("fields[TITLE]=x&fields[PHONE][0][VALUE]=1&select[]=ID&select[]=TITLE")
    assert parsed == {
        "fields": {"TITLE": "x", "PHONE": [{"VALUE": "1"}]},
        "select": ["ID", "TITLE"],
    }


def test_percent_encoded_brackets_and_blank_values_survive():
    parsed = parse_query("filter%5B%3EID%5D=5&empty=&a%5Bb%5D%5B%5D=1")
    assert parsed == {"filter": {">ID": "5"}, "empty": "", "a": {"b": ["1"]}}


def test_non_sequential_numeric_keys_stay_a_dict():
    assert parse_query("a[0]=x&a[2]=y") == {"a": {"0": "x", "2": "y"}}


def test_flatten_is_http_build_query_and_round_trips():
    data = {
        "event": "ONCRMLEADADD",
        "data": {"FIELDS": {"ID": "7"}},
        "auth": {"x": True, "none": None},
        "list": ["a", "b"],
    }
    pairs = flatten(data)
    assert pairs == [
        ("event", "ONCRMLEADADD"),
        ("data[FIELDS][ID]", "7"),
        ("auth[x]", "1"),
        ("list[0]", "a"),
        ("list[1]", "b"),
    ]
    assert parse_query(build_query(data)) == {
        "event": "ONCRMLEADADD",
        "data": {"FIELDS": {"ID": "7"}},
        "auth": {"x": "1"},
        "list": ["a", "b"],
    }


def test_build_query_percent_encodes_brackets_and_backslashes():
    body = build_query({"document_id": ["crm", "Bitrix\\Crm\\Dynamic"]})
    assert body == "document_id%5B0%5D=crm&document_id%5B1%5D=Bitrix%5CCrm%5CDynamic"
