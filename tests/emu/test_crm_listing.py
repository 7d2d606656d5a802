"""The list engine: prefix operators, OR groups, ordering and paging like a portal."""

from __future__ import annotations

import pytest

from b24emu.listing import FilterError, compile_filter, filter_rows, order_rows, page

ROWS = [
    {"ID": 1, "TITLE": "Alpha deal", "STAGE": "NEW", "SUM": 100.0, "TAGS": [1, 2]},
    {"ID": 2, "TITLE": "beta", "STAGE": "WON", "SUM": 5000.0, "TAGS": []},
    {"ID": 3, "TITLE": "Gamma deal", "STAGE": "LOSE", "SUM": None, "TAGS": [3]},
    {"ID": 4, "TITLE": "", "STAGE": "NEW", "SUM": 7000.0, "TAGS": [2]},
]


def ids(flt, **kw):
    return [r["ID"] for r in filter_rows(ROWS, flt, **kw)]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"STAGE": "NEW"}, [1, 4]),
        ({"=STAGE": "NEW"}, [1, 4]),
        ({"!STAGE": "NEW"}, [2, 3]),
        ({"!=STAGE": "NEW"}, [2, 3]),
        ({">SUM": 100}, [2, 4]),
        ({">=SUM": "100"}, [1, 2, 4]),  # numeric column, string filter value
        ({"<SUM": 5000}, [1]),  # NULL never compares
        ({"<=SUM": 5000}, [1, 2]),
        ({"@STAGE": ["WON", "LOSE"]}, [2, 3]),
        ({"!@STAGE": ["WON", "LOSE"]}, [1, 4]),
        ({"STAGE": ["WON", "LOSE"]}, [2, 3]),  # array value = IN
        ({"%TITLE": "DEAL"}, [1, 3]),  # substring, case-insensitive
        ({"=%TITLE": "alpha%"}, [1]),  # explicit wildcard
        ({"%=TITLE": "%deal"}, [1, 3]),
        ({"!%TITLE": "deal"}, [2, 4]),
        ({"!=%TITLE": "%a"}, [1, 3, 4]),
        ({"TITLE": ""}, [4]),  # empty matches empty
        ({"TAGS": 2}, [1, 4]),  # multiple field: any element
        ({">ID": 1, "<ID": 4}, [2, 3]),
    ],
)
def test_prefix_operators(flt, expected):
    assert ids(flt) == expected


def test_or_group_only_when_allowed():
    flt = {"logic": "OR", "0": {"STAGE": "WON"}, "1": {">SUM": 6000}}
    assert ids({"0": flt}, allow_or=True) == [2, 4]
    assert ids({"0": flt, "!ID": 2}, allow_or=True) == [4]
    # legacy lists have no OR: the nested group is ignored
    assert ids({"0": flt}) == [1, 2, 3, 4]


def test_unknown_field_is_refused_when_asked():
    with pytest.raises(FilterError) as exc:
        compile_filter({">=nope": 1}, allowed=lambda name: name != "nope")
    assert str(exc.value) == "Invalid filter: field 'nope' is not allowed in filter"


def test_order_multi_key_nulls_first_and_desc():
    by_sum = [r["ID"] for r in order_rows(ROWS, {"SUM": "asc"})]
    assert by_sum == [3, 1, 2, 4]
    by_stage_then_id_desc = [r["ID"] for r in order_rows(ROWS, {"STAGE": "ASC", "ID": "DESC"})]
    assert by_stage_then_id_desc == [3, 4, 1, 2]


def test_page_floors_start_and_reports_next_only_when_more():
    rows = list(range(120))
    first = page(rows, 0)
    assert (len(first.result), first.total, first.next) == (50, 120, 50)
    floored = page(rows, 70)  # 70 is read as 50
    assert floored.result[0] == 50 and floored.next == 100
    last = page(rows, 100)
    assert (len(last.result), last.next) == (20, None)
    assert last.counted_rows == 120


def test_page_without_counting():
    fast = page(list(range(120)), -1)
    assert (len(fast.result), fast.total, fast.next, fast.counted_rows) == (50, 0, None, 0)


def test_numbers_printed_as_strings_sort_and_compare_numerically():
    rows = [{"ID": "9"}, {"ID": "10"}, {"ID": "100"}, {"ID": "C1:NEW"}]
    assert [r["ID"] for r in order_rows(rows, {"ID": "ASC"})] == ["9", "10", "100", "C1:NEW"]
    numeric = rows[:3]
    assert [r["ID"] for r in filter_rows(numeric, {">ID": 9})] == ["10", "100"]
    assert [r["ID"] for r in filter_rows(numeric, {"<=ID": "10"})] == ["9", "10"]
