"""plan() is pure: decisions on hand-made portal snapshots (no I/O)."""

from app.installers.current import Snapshot
from app.installers.desired import Desired
from app.installers.plan import plan
from app.playbooks.schema import FieldSpec, Option, PipelineSpec, SmartProcessSpec, Text, stage
from app.store.schema_objects import Known

BASE = "https://app.example.com"


def desired(**kw):
    base = dict(
        playbooks=("t",),
        fields=(),
        lead_stages=(),
        stage_aliases={},
        pipelines=(),
        smart_processes=(),
        robots=(),
        events=(),
        widgets=(),
    )
    return Desired(**{**base, **kw})


def status(sid, name, sort, sem=None, system="N", rid=None, entity="STATUS"):
    return {
        "ID": rid or abs(hash(sid)) % 10000,
        "ENTITY_ID": entity,
        "STATUS_ID": sid,
        "NAME": name,
        "SORT": sort,
        "SEMANTICS": sem,
        "SYSTEM": system,
        "COLOR": "#000000",
    }


LEADS = [
    status("NEW", "Unassigned", 10, system="Y", rid=1),
    status("IN_PROCESS", "In progress", 20, system="Y", rid=3),
    status("CONVERTED", "Good lead", 40, "S", "Y", rid=7),
    status("JUNK", "Junk lead", 50, "F", "Y", rid=9),
]
LEAD_SPEC = (
    stage("t.lead.new", "NEW", "Не обработан", "Unprocessed"),
    stage("t.lead.a", "T_A", "Первая", "First"),
    stage("t.lead.b", "T_B", "Вторая", "Second"),
    stage("t.lead.won", "CONVERTED", "Сделка", "Converted", "S"),
    stage("t.lead.lost", "T_LOST", "Потерян", "Lost", "F"),
)


def adds(p, kind):
    return [s for s in p.steps if s.kind == kind and s.op == "add"]


def test_new_lead_stages_slot_between_neighbours_and_system_stages_keep_their_names():
    p = plan(desired(lead_stages=LEAD_SPEC), Snapshot(statuses={"STATUS": LEADS}), {}, BASE, {})
    sorts = {s.code: s.params["fields"]["SORT"] for s in adds(p, "stage")}
    assert 10 < sorts["t.lead.a"] < sorts["t.lead.b"] < 40  # below the success stage
    assert sorts["t.lead.lost"] > 50
    assert adds(p, "stage")[-1].params["fields"]["SEMANTICS"] == "F"
    # NEW/CONVERTED are adopted, not renamed: the app did not create them
    assert not [s for s in p.steps if s.op == "update"]
    assert {m.code: m.real_name for m in p.matches if m.kind == "stage"} == {
        "t.lead.new": "NEW",
        "t.lead.won": "CONVERTED",
    }


def test_stage_the_app_created_is_renamed_but_a_look_alike_is_only_adopted():
    rows = LEADS + [status("T_A", "Old name", 15, rid=11), status("UC_X1", "Вторая", 17, rid=12)]
    known = {("stage", "t.lead.a"): Known("stage", "t.lead.a", "11", "T_A", True)}
    p = plan(desired(lead_stages=LEAD_SPEC), Snapshot(statuses={"STATUS": rows}), known, BASE, {})
    updates = [s for s in p.steps if s.op == "update"]
    assert [(u.code, u.params["fields"]) for u in updates] == [("t.lead.a", {"NAME": "Первая"})]
    assert "t.lead.b" not in {s.code for s in adds(p, "stage")}
    assert any("t.lead.b → UC_X1" in line for line in p.adopted)


def test_semantics_mismatch_is_a_conflict_and_nothing_is_written_for_it():
    rows = LEADS + [status("T_LOST", "Потерян", 30)]  # exists, but in progress
    p = plan(desired(lead_stages=LEAD_SPEC), Snapshot(statuses={"STATUS": rows}), {}, BASE, {})
    assert [c.what for c in p.conflicts] == ["stage t.lead.lost"]
    assert "t.lead.lost" not in {s.code for s in p.steps}


def test_final_stages_move_down_to_make_room_keeping_their_names_and_order():
    rows = [
        status("NEW", "Unassigned", 10, system="Y", rid=1),
        status("CONVERTED", "Good", 11, "S", "Y", rid=7),
        status("JUNK", "Junk", 12, "F", "Y", rid=9),
    ]
    p = plan(desired(lead_stages=LEAD_SPEC), Snapshot(statuses={"STATUS": rows}), {}, BASE, {})
    assert not p.conflicts
    moved = {s.params["id"]: s.params["fields"] for s in p.steps if s.op == "update"}
    assert set(moved) == {7, 9} and all(set(f) == {"SORT"} for f in moved.values())
    assert 11 < moved[7]["SORT"] < moved[9]["SORT"]
    sorts = {s.code: s.params["fields"]["SORT"] for s in adds(p, "stage")}
    assert 10 < sorts["t.lead.a"] < sorts["t.lead.b"] < moved[7]["SORT"] < sorts["t.lead.lost"]
    order = [s.op for s in p.ready_steps()]
    assert order.index("update") < order.index("add")


def test_no_room_between_two_existing_stages_moves_the_later_ones_keeping_order():
    rows = LEADS + [status("UC_B", "Вторая", 11, rid=12)]  # T_B adopted right after NEW
    p = plan(desired(lead_stages=LEAD_SPEC[:4]), Snapshot(statuses={"STATUS": rows}), {}, BASE, {})
    assert not p.conflicts
    moved = {s.params["id"]: s.params["fields"]["SORT"] for s in p.steps if s.op == "update"}
    after = {r["ID"]: moved.get(r["ID"], r["SORT"]) for r in rows}
    original_order = [r["ID"] for r in sorted(rows, key=lambda r: r["SORT"])]
    assert sorted(after, key=after.get) == original_order  # nobody overtakes anybody
    (a,) = [s.params["fields"]["SORT"] for s in adds(p, "stage")]
    assert 10 < a < after[12]


PIPE = PipelineSpec(
    "t.deal",
    Text("Трубы", "Pipes"),
    (
        stage("t.deal.new", "NEW", "Новая", "New"),
        stage("t.deal.work", "WORK", "В работе", "Working"),
        stage("t.deal.won", "WON", "Успех", "Won", "S"),
        stage("t.deal.lost", "LOSE", "Провал", "Lost", "F"),
    ),
)
SEEDED = [
    status("C3:NEW", "New", 10, system="Y", rid=31, entity="DEAL_STAGE_3"),
    status("C3:PREPARATION", "Document preparation", 20, rid=32, entity="DEAL_STAGE_3"),
    status("C3:WON", "Deal won", 60, "S", "Y", rid=33, entity="DEAL_STAGE_3"),
    status("C3:LOSE", "Deal lost", 70, "F", "Y", rid=34, entity="DEAL_STAGE_3"),
]


def test_missing_pipeline_is_created_first_and_its_stages_wait_for_it():
    p = plan(desired(pipelines=(PIPE,)), Snapshot(categories={2: []}), {}, BASE, {})
    (cat,) = adds(p, "category")
    assert cat.params == {"entityTypeId": 2, "fields": {"name": "Трубы", "sort": 500}}
    assert cat.phase < min(s.phase for s in p.steps if s is not cat)
    assert {s.code for s in adds(p, "stage")} == {s.code for s in PIPE.stages}
    assert all(not s.ready and s.waits_for == "t.deal" for s in adds(p, "stage"))


def test_own_pipeline_is_brought_to_spec_and_its_seed_stages_removed():
    snap = Snapshot(categories={2: [{"id": 3, "name": "Трубы"}]}, statuses={"DEAL_STAGE_3": SEEDED})
    known = {
        ("category", "t.deal"): Known("category", "t.deal", "3", None, True, {"entityTypeId": 2})
    }
    p = plan(desired(pipelines=(PIPE,)), snap, known, BASE, {})
    (add,) = adds(p, "stage")
    assert add.params["fields"]["STATUS_ID"] == "C3:WORK" and add.params["fields"]["SORT"] == 20
    renames = {s.code: s.params["fields"].get("NAME") for s in p.steps if s.op == "update"}
    assert renames["t.deal.new"] == "Новая" and renames["t.deal.won"] == "Успех"
    assert [s.params for s in p.steps if s.op == "delete"] == [{"id": 32}]
    order = [s.op for s in p.ready_steps()]
    assert order.index("update") < order.index("add") < order.index("delete")


def test_adopted_pipeline_by_name_is_never_pruned_or_renamed():
    snap = Snapshot(categories={2: [{"id": 3, "name": "pipes"}]}, statuses={"DEAL_STAGE_3": SEEDED})
    p = plan(desired(pipelines=(PIPE,)), snap, {}, BASE, {})
    assert not [s for s in p.steps if s.op in ("update", "delete")]
    assert [s.params["fields"]["STATUS_ID"] for s in adds(p, "stage")] == ["C3:WORK"]
    assert any("pipeline t.deal → category 3" in line for line in p.adopted)


WIDTH = FieldSpec("UF_CRM_T_WIDTH", "lead", "double", Text("Ширина, м", "Width, m"))
KIND = FieldSpec(
    "UF_CRM_T_KIND",
    "lead",
    "enumeration",
    Text("Вид", "Kind"),
    options=(Option("a", Text("А", "A")), Option("b", Text("Б", "B"))),
)


def uf(name, type_, label, options=(), entity="CRM_LEAD", fid="501"):
    return {
        "ID": fid,
        "ENTITY_ID": entity,
        "FIELD_NAME": name,
        "USER_TYPE_ID": type_,
        "MULTIPLE": "N",
        "MANDATORY": "N",
        "EDIT_FORM_LABEL": label,
        "LIST": list(options),
    }


def test_hand_made_field_with_the_same_label_is_adopted_not_duplicated():
    from app.installers.wire import field_row

    snap = Snapshot(
        fields={"CRM_LEAD": [field_row(uf("UF_CRM_1721244707107", "double", "ширина, м"))]}
    )
    p = plan(desired(fields=(WIDTH,)), snap, {}, BASE, {})
    assert not p.steps
    (m,) = [m for m in p.matches if m.kind == "field"]
    assert (m.code, m.real_name, m.owned) == ("lead:UF_CRM_T_WIDTH", "UF_CRM_1721244707107", False)


def test_field_type_mismatch_is_a_conflict_with_advice_and_no_write():
    from app.installers.wire import field_row

    snap = Snapshot(fields={"CRM_LEAD": [field_row(uf("UF_CRM_T_WIDTH", "string", "Ширина, м"))]})
    p = plan(desired(fields=(WIDTH,)), snap, {}, BASE, {})
    assert not p.steps and not [m for m in p.matches if m.kind == "field"]
    (c,) = p.conflicts
    assert "string" in c.problem and "double" in c.problem and c.fix


def test_missing_list_values_are_added_keeping_existing_ones():
    from app.installers.wire import field_row

    row = uf("UF_CRM_T_KIND", "enumeration", "Вид", [{"ID": "7", "VALUE": "А", "XML_ID": "a"}])
    p = plan(desired(fields=(KIND,)), Snapshot(fields={"CRM_LEAD": [field_row(row)]}), {}, BASE, {})
    (step,) = p.steps
    assert step.method == "crm.lead.userfield.update"
    assert step.params["fields"]["LIST"] == [
        {"ID": "7"},
        {"VALUE": "Б", "XML_ID": "b", "SORT": 100},
    ]
    assert p.matches[0].meta["options"] == {"a": "7"}


OBJ = SmartProcessSpec(
    "t.obj",
    Text("Объект", "Object"),
    (
        stage("t.obj.new", "NEW", "Новый", "New"),
        stage("t.obj.ok", "SUCCESS", "Готов", "Done", "S"),
        stage("t.obj.fail", "FAIL", "Отменён", "Cancelled", "F"),
    ),
    parents=("lead",),
)
OBJ_W = FieldSpec("UF_CRM_OBJ_W", "t.obj", "double", Text("Ширина", "Width"))


def test_smart_process_fields_get_portal_specific_names_once_the_type_exists():
    first = plan(desired(smart_processes=(OBJ,), fields=(OBJ_W,)), Snapshot(), {}, BASE, {})
    (t,) = adds(first, "type")
    assert t.params["fields"]["relations"]["parent"] == [
        {"entityTypeId": 1, "isChildrenListEnabled": "true"}
    ]
    assert [s.waits_for for s in adds(first, "field")] == ["t.obj"]
    snap = Snapshot(
        types=[{"id": 7, "entityTypeId": 1030, "title": "Объект"}],
        categories={1030: [{"id": 5, "isDefault": "Y"}]},
        statuses={"DYNAMIC_1030_STAGE_5": []},
    )
    known = {("type", "t.obj"): Known("type", "t.obj", "7", None, True, {"entityTypeId": 1030})}
    second = plan(desired(smart_processes=(OBJ,), fields=(OBJ_W,)), snap, known, BASE, {})
    (f,) = adds(second, "field")
    assert (
        f.params["field"]["fieldName"] == "UF_CRM_7_OBJ_W"
        and f.params["field"]["entityId"] == "CRM_7"
    )
    assert {s.params["fields"]["STATUS_ID"] for s in adds(second, "stage")} == {
        "DT1030_5:NEW",
        "DT1030_5:SUCCESS",
        "DT1030_5:FAIL",
    }


def test_without_app_context_robots_events_widgets_are_noted_not_planned():
    from app.playbooks.schema import EventSpec

    p = plan(
        desired(robots=("calc_area",), events=(EventSpec("ONCRMLEADADD"),)),
        Snapshot(),
        {},
        BASE,
        {},
    )
    assert not p.steps and len(p.notes) == 2


def test_robot_is_updated_only_when_its_spec_changed():
    from app.robots.calc_area import SPEC

    specs = {"calc_area": SPEC}
    fp = SPEC.fingerprint(f"{BASE}/robots/calc_area")
    snap = Snapshot(robots=["calc_area"], events=[], placements=[])
    same = {("robot", "calc_area"): Known("robot", "calc_area", meta={"fingerprint": fp})}
    old = {("robot", "calc_area"): Known("robot", "calc_area", meta={"fingerprint": "old"})}
    unchanged = plan(desired(robots=("calc_area",)), snap, same, BASE, specs)
    assert [s for s in unchanged.steps if s.kind == "robot"] == []
    (step,) = [
        s
        for s in plan(desired(robots=("calc_area",)), snap, old, BASE, specs).steps
        if s.kind == "robot"
    ]
    assert step.method == "bizproc.robot.update" and step.params["CODE"] == "calc_area"
    gone = plan(
        desired(robots=("calc_area",)),
        Snapshot(robots=[], events=[], placements=[]),
        same,
        BASE,
        specs,
    )
    (add,) = [s for s in gone.steps if s.kind == "robot"]
    assert add.method == "bizproc.robot.add" and add.params["HANDLER"] == f"{BASE}/robots/calc_area"


def test_own_field_gets_label_and_required_flag_fixed_an_adopted_one_does_not():
    from app.installers.wire import field_row

    spec = FieldSpec("UF_CRM_T_WIDTH", "lead", "double", Text("Ширина", "Width"), required=True)
    row = field_row(uf("UF_CRM_T_WIDTH", "double", "Old label"))
    ours = {
        ("field", "lead:UF_CRM_T_WIDTH"): Known(
            "field", "lead:UF_CRM_T_WIDTH", "501", "UF_CRM_T_WIDTH", True
        )
    }
    (step,) = plan(
        desired(fields=(spec,)), Snapshot(fields={"CRM_LEAD": [row]}), ours, BASE, {}
    ).steps
    assert step.params["fields"]["MANDATORY"] == "Y"
    assert step.params["fields"]["EDIT_FORM_LABEL"] == {"ru": "Ширина", "en": "Width"}
    # the same field found by name but never created by the app: left as the admin made it
    assert (
        plan(desired(fields=(spec,)), Snapshot(fields={"CRM_LEAD": [row]}), {}, BASE, {}).steps
        == []
    )


def test_robots_run_as_the_installing_admin_and_a_new_admin_means_an_update():
    from app.robots.calc_area import SPEC

    fp = SPEC.fingerprint(f"{BASE}/robots/calc_area")  # registered as user 1
    snap = Snapshot(robots=["calc_area"], events=[], placements=[])
    known = {("robot", "calc_area"): Known("robot", "calc_area", meta={"fingerprint": fp})}
    p = plan(desired(robots=("calc_area",)), snap, known, BASE, {"calc_area": SPEC}, robot_user=7)
    (step,) = [s for s in p.steps if s.kind == "robot"]
    assert step.params["FIELDS"]["AUTH_USER_ID"] == 7


def test_untouched_default_lead_list_becomes_the_playbooks_when_its_occupancy_is_known():
    """The same untouched list, once the read says which stages hold leads: kept defaults
    are renamed, unused empty ones removed, occupied or system ones kept with a note."""
    rows = LEADS + [status("PROCESSED", "Processed", 30, rid=5)]
    rows = [dict(r, SYSTEM="N") if r["STATUS_ID"] == "IN_PROCESS" else r for r in rows]
    snap = Snapshot(statuses={"STATUS": rows}, occupied={"STATUS": {"PROCESSED"}})
    p = plan(desired(lead_stages=LEAD_SPEC), snap, {}, BASE, {})
    renames = {s.params["id"]: s.params["fields"].get("NAME") for s in p.steps if s.op == "update"}
    assert renames[1] == "Не обработан" and renames[7] == "Сделка"
    deletes = {s.params["id"]: s.params for s in p.steps if s.op == "delete"}
    assert deletes == {3: {"id": 3}}  # IN_PROCESS: empty, not a system stage
    assert any("(PROCESSED) is kept: records are in it" in n for n in p.notes)
    assert any("system stage «Junk lead» (JUNK) is kept" in n for n in p.notes)
    assert not [m for m in p.matches if m.kind == "stage" and m.owned]  # NEW etc. not ours


def test_a_renamed_default_makes_the_lead_list_shared_even_with_occupancy_known():
    rows = [dict(r, NAME="Звонок") if r["STATUS_ID"] == "IN_PROCESS" else r for r in LEADS]
    snap = Snapshot(statuses={"STATUS": rows}, occupied={"STATUS": set()})
    p = plan(desired(lead_stages=LEAD_SPEC), snap, {}, BASE, {})
    assert not [s for s in p.steps if s.op in ("update", "delete")]


def test_an_untouched_default_deal_pipeline_adopted_by_name_becomes_the_playbooks():
    """The same fresh-portal path for the default pipeline (category 0, ``DEAL_STAGE``,
    no prefix) when a playbook's pipeline is adopted onto it."""
    general = PipelineSpec("t.general", Text("Общая", "General"), PIPE.stages)
    rows = [
        status("NEW", "New", 10, system="Y", rid=41, entity="DEAL_STAGE"),
        status("PREPARATION", "Document preparation", 20, rid=42, entity="DEAL_STAGE"),
        status("EXECUTING", "In progress", 40, rid=43, entity="DEAL_STAGE"),
        status("WON", "Deal successful", 60, "S", "Y", rid=44, entity="DEAL_STAGE"),
        status("LOSE", "Deal failed", 70, "F", "Y", rid=45, entity="DEAL_STAGE"),
    ]
    snap = Snapshot(
        categories={2: [{"id": 0, "name": "General", "isDefault": "Y"}]},
        statuses={"DEAL_STAGE": rows},
        occupied={"DEAL_STAGE": {"EXECUTING"}},
    )
    p = plan(desired(pipelines=(general,)), snap, {}, BASE, {})
    assert [s.params["fields"]["STATUS_ID"] for s in adds(p, "stage")] == ["WORK"]
    renames = {s.code: s.params["fields"].get("NAME") for s in p.steps if s.op == "update"}
    assert renames["t.deal.new"] == "Новая" and renames["t.deal.won"] == "Успех"
    assert [s.params for s in p.steps if s.op == "delete"] == [{"id": 42}]
    assert any("(EXECUTING) is kept: records are in it" in n for n in p.notes)


def test_a_moved_base_url_unbinds_only_what_this_plan_binds_anew_and_we_recorded():
    """Bindings under an earlier APP_BASE_URL go once their replacement is bound; an event
    binding is ours only by its record, and a widget this (partial) plan does not bind
    keeps its old binding until a plan binds it anew."""
    from app.playbooks.schema import EventSpec, WidgetSpec

    old = "https://old.example.com"
    tab = WidgetSpec("tab", "CRM_LEAD_DETAIL_TAB", Text("Т", "T"))
    kept = WidgetSpec("kept", "CRM_DEAL_DETAIL_TAB", Text("К", "K"))
    snap = Snapshot(
        robots=[],
        events=[
            {"event": "ONCRMLEADADD", "handler": f"{old}/events", "offline": 0},
            {"event": "ONCRMLEADADD", "handler": "https://someone.else/events", "offline": 0},
        ],
        placements=[
            {"placement": "CRM_LEAD_DETAIL_TAB", "handler": f"{old}/widgets/tab", "userId": 0},
            {"placement": "CRM_DEAL_DETAIL_TAB", "handler": f"{old}/widgets/kept", "userId": 0},
        ],
    )
    code = f"ONCRMLEADADD|{old}/events"
    known = {("event", code): Known("event", code, None, "ONCRMLEADADD", True,
                                    {"handler": f"{old}/events", "offline": False})}  # fmt: skip
    p = plan(
        desired(events=(EventSpec("ONCRMLEADADD", offline=False),), widgets=(tab,)),
        snap,
        known,
        BASE,
        {},
        keep_widgets=(tab, kept),
    )
    deletes = {(s.method, tuple(sorted(s.params.items()))) for s in p.steps if s.op == "delete"}
    assert deletes == {
        ("event.unbind", (("event", "ONCRMLEADADD"), ("handler", f"{old}/events"))),
        ("placement.unbind",
         (("HANDLER", f"{old}/widgets/tab"), ("PLACEMENT", "CRM_LEAD_DETAIL_TAB"))),
    }  # fmt: skip
    binds = {(s.params.get("handler") or s.params.get("HANDLER")) for s in p.steps if s.op == "add"}
    assert {f"{BASE}/events", f"{BASE}/widgets/tab"} <= binds  # the replacements
    (event_delete,) = [s for s in p.steps if s.method == "event.unbind"]
    assert event_delete.record == known[("event", code)]  # forgotten once unbound
    (widget_delete,) = [s for s in p.steps if s.method == "placement.unbind"]
    assert widget_delete.record is None  # the new binding's record has the same key
