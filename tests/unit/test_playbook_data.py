"""The five playbooks' data: valid, ordered stages, shareable lead stages, typed settings."""

import pytest

from app.installers.desired import build
from app.playbooks import NAMES, load
from app.playbooks.schema import FieldSpec, Option, Playbook, Text, stage
from app.playbooks.settings import coerce


@pytest.mark.parametrize("name", NAMES)
def test_stage_lists_go_in_progress_then_success_then_failure(name):
    book = load(name)
    lists = [book.lead_stages] + [p.stages for p in book.pipelines]
    lists += [sp.stages for sp in book.smart_processes]
    for stages in filter(None, lists):
        rank = [{"": 0, "S": 1, "F": 2}[s.semantics] for s in stages]
        assert rank == sorted(rank), [s.code for s in stages]
        assert rank.count(1) == 1, "exactly one success stage per list"
        assert all(s.code.startswith(f"{name}.") for s in stages)


@pytest.mark.parametrize("name", NAMES)
def test_every_duration_and_threshold_default_has_its_declared_type(name):
    for spec in load(name).settings:
        assert coerce(spec, spec.default) == spec.default


def test_metal_declares_the_object_process_with_fields_and_links():
    book = load("metal")
    (obj,) = book.smart_processes
    assert obj.code == "metal.object" and obj.title.ru == "Объект"
    assert set(obj.parents) == {"lead", "deal"}
    codes = {f.code for f in book.fields if f.entity == "metal.object"}
    assert {"UF_CRM_OBJ_WIDTH", "UF_CRM_OBJ_LENGTH", "UF_CRM_OBJ_PURPOSE"} <= codes


def test_all_five_share_lead_stages_by_status_id_and_keep_one_success():
    d = build(NAMES)
    ids = [s.status_id for s in d.lead_stages]
    assert len(ids) == len(set(ids))
    assert [s.status_id for s in d.lead_stages if s.semantics == "S"] == ["CONVERTED"]
    # kitchens' and furniture's first stages are merged into metal's NEW
    assert d.stage_aliases["kitchens.lead.unprocessed"] == "metal.lead.unprocessed"
    assert d.stage_aliases["furniture.lead.new"] == "metal.lead.unprocessed"
    assert d.conflicts == ()


def test_merge_reports_a_type_conflict_between_playbooks(monkeypatch):
    a = Playbook(
        "a", Text("a", "a"), fields=(FieldSpec("UF_CRM_X", "lead", "string", Text("X", "X")),)
    )
    b = Playbook(
        "b", Text("b", "b"), fields=(FieldSpec("UF_CRM_X", "lead", "double", Text("X", "X")),)
    )
    monkeypatch.setattr("app.installers.desired.load_many", lambda names: [a, b])
    d = build(["a", "b"])
    assert len(d.fields) == 1 and d.fields[0].type == "string"
    assert [c.what for c in d.conflicts] == ["field lead:UF_CRM_X"]


def test_merge_unions_list_values_of_a_shared_enumeration(monkeypatch):
    def enum(*codes):
        opts = tuple(Option(c, Text(c, c)) for c in codes)
        return FieldSpec("UF_CRM_E", "deal", "enumeration", Text("E", "E"), options=opts)

    a = Playbook("a", Text("a", "a"), fields=(enum("x", "y"),))
    b = Playbook("b", Text("b", "b"), fields=(enum("y", "z"),))
    monkeypatch.setattr("app.installers.desired.load_many", lambda names: [a, b])
    (f,) = build(["a", "b"]).fields
    assert [o.code for o in f.options] == ["x", "y", "z"]


def test_merge_reports_lead_stage_semantics_conflict(monkeypatch):
    a = Playbook("a", Text("a", "a"), lead_stages=(stage("a.l.x", "X1", "x", "x"),))
    b = Playbook("b", Text("b", "b"), lead_stages=(stage("b.l.x", "X1", "x", "x", "F"),))
    monkeypatch.setattr("app.installers.desired.load_many", lambda names: [a, b])
    d = build(["a", "b"])
    assert [s.code for s in d.lead_stages] == ["a.l.x"]
    assert d.conflicts[0].what == "lead stage X1"


@pytest.mark.parametrize(
    "bad",
    [
        lambda: FieldSpec("WIDTH", "lead", "double", Text("w", "w")),
        lambda: FieldSpec("UF_CRM_W", "lead", "float", Text("w", "w")),
        lambda: FieldSpec(
            "UF_CRM_W", "lead", "string", Text("w", "w"), options=(Option("a", Text("a", "a")),)
        ),
        lambda: stage("x", "BAD ID", "x", "x"),
        lambda: stage("x", "OK", "x", "x", "W"),
    ],
)
def test_bad_declarations_fail_loudly(bad):
    with pytest.raises(ValueError):
        bad()


def test_unknown_playbook_is_refused():
    with pytest.raises(ValueError, match="unknown playbook"):
        build(["metal", "bakery"])
