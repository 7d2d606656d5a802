from decimal import Decimal

import pytest

from app.domain.dedup import KEY_FIELDS, dedup_hash, dedup_key, find_matches, normalise_keys
from app.domain.merge import MergeError, ObjectRecord, plan_merge
from app.domain.numbers import ValueProblem


def keys(**kw):
    base = dict(width="12", length="24", height="6", area="288", site="Казань", purpose="Склад")
    base.update(kw)
    return normalise_keys(**base)


def test_equivalent_spellings_give_the_same_key():
    a = keys()
    b = normalise_keys(
        width="12,00 м",
        length="2400 см",
        height="6000мм",
        area="288 м²",
        site="  КАЗАНЬ ",
        purpose="склад.",
    )
    assert a == b
    assert dedup_key(a) == "12|24|6|288|казань|склад"
    assert dedup_hash(a) == dedup_hash(b)
    assert len(dedup_hash(a)) == 32


def test_text_normalisation_yo_punctuation_spaces():
    a = keys(site="г. Казань, ул. Ёлочная", purpose="Склад—ангар")
    b = keys(site="Г Казань  ул Елочная", purpose="склад ангар")
    assert dedup_key(a) == dedup_key(b)


def test_tolerance_rounding():
    assert keys(width="12,004").width_m == Decimal("12")
    assert keys(width="12,005").width_m == Decimal("12.01")
    coarse = normalise_keys(width="12,3", tolerance=Decimal("0.5"))
    assert coarse.width_m == Decimal("12.5")


def test_different_values_give_different_keys():
    base = dedup_hash(keys())
    for change in (dict(width="13"), dict(height="6,1"), dict(site="Москва"), dict(purpose="Цех")):
        assert dedup_hash(keys(**change)) != base, change


def test_empty_and_invalid_fields():
    k = keys(height=None, site="")
    assert k.height_m is None and k.site == ""
    assert not k.is_complete
    assert keys().is_complete
    assert dedup_key(k) == "12|24||288||склад"
    with pytest.raises(ValueProblem) as err:
        keys(height="высокий")
    assert err.value.field == "Высота"


def test_find_matches_requires_all_six_and_explains():
    cand = keys()
    objects = [
        (7, keys(width="12,0")),
        (3, keys(site="Москва")),
        (5, normalise_keys(width="12", length="24", area="288", site="казань", purpose="склад")),
        (2, keys()),
    ]
    found = find_matches(cand, objects)
    assert [m.object_id for m in found] == [2, 7]
    assert all(m.is_duplicate and m.matched == KEY_FIELDS for m in found)
    loose = find_matches(cand, objects, required=("width_m", "length_m"))
    assert [m.object_id for m in loose] == [2, 3, 5, 7]
    moscow = next(m for m in loose if m.object_id == 3)
    assert moscow.differing == ("site",)
    assert moscow.describe().endswith("отличаются Место строительства")
    with pytest.raises(ValueError):
        find_matches(cand, objects, required=("colour",))


def test_empty_fields_on_both_sides_do_not_match():
    cand = keys(height=None)
    assert find_matches(cand, [(1, keys(height=None))]) == []


def obj(i, links=None, **fields):
    return ObjectRecord(i, fields, {k: frozenset(v) for k, v in (links or {}).items()})


def test_merge_fills_empty_main_fields_in_id_order():
    main = obj(1, site="Казань", purpose="", height=None, links={"lead": {10}})
    d3 = obj(3, height=Decimal(7), purpose="Цех", links={"lead": {10, 30}, "deal": {31}})
    d2 = obj(2, height=Decimal(6), purpose="Склад", links={"lead": {20}})
    plan = plan_merge(main, [d3, d2])
    assert plan.updates == {"purpose": "Склад", "height": Decimal(6)}
    assert plan.sources == {"purpose": 2, "height": 2}
    assert [(c.field, c.kept_from) for c in plan.conflicts] == [("purpose", 2), ("height", 2)]
    assert plan.needs_choice
    assert [(m.kind, m.entity_id, m.from_object) for m in plan.moves] == [
        ("lead", 20, 2),
        ("deal", 31, 3),
        ("lead", 30, 3),
    ]
    assert plan.deletes == (2, 3)
    assert plan_merge(main, [d2, d3]) == plan  # pick order does not matter


def test_merge_choice_wins_and_silences_conflict():
    main = obj(1, site="Казань", height=Decimal(6))
    dup = obj(2, site="Москва", height=Decimal(6))
    plan = plan_merge(main, [dup], {"site": 2})
    assert plan.updates == {"site": "Москва"}
    assert not plan.needs_choice
    kept = plan_merge(main, [dup], {"site": 1})
    assert kept.updates == {} and not kept.conflicts
    unchosen = plan_merge(main, [dup])
    assert unchosen.updates == {}
    assert unchosen.conflicts[0].values == ((1, "Казань"), (2, "Москва"))


def test_merge_same_text_differently_spelled_is_no_conflict():
    plan = plan_merge(obj(1, site="Казань"), [obj(2, site=" казань ")])
    assert plan.updates == {} and plan.conflicts == ()


@pytest.mark.parametrize(
    "dups, choices, fragment",
    [
        ([], None, "Не выбраны"),
        ([obj(1)], None, "своим дубликатом"),
        ([obj(2), obj(2)], None, "дважды"),
        ([obj(2)], {"site": 9}, "#9"),
    ],
)
def test_merge_rejects_bad_requests(dups, choices, fragment):
    with pytest.raises(MergeError, match=fragment):
        plan_merge(obj(1), dups, choices)
