"""Record ownership (``app.rules.ownership``, ``app.playbooks.lead_owner``): pure tests of the
owner function, and the engine running only the owner's rules on a record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.playbooks import NAMES
from app.playbooks.lead_owner import FORM, SOURCE, claim_strength, owner_of_lead
from app.playbooks.settings import defaults
from app.rules import actions as A
from app.rules import dispatch
from app.rules.changes import diff
from app.rules.engine import decide
from app.rules.model import Rule, on_created
from app.rules.ownership import NOBODY, SHARED, record_owner

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
ALL = tuple(NAMES)
NEW = {"metal.lead.unprocessed", "furniture.lead.new", "kitchens.lead.unprocessed", "b2b.lead.new"}
CONVERTED = {
    "metal.lead.converted",
    "furniture.lead.contract",
    "kitchens.lead.agreed",
    "b2b.lead.converted",
}
CLAIMS = {n: defaults(n).get("lead_claims", []) for n in ALL}


class Portal:
    """The SchemaMap lookups ownership uses, as on a portal with all five installed: the
    shared lead stages keep metal's code; each pipeline is its own category."""

    CATEGORIES = {
        "metal.deal": 1,
        "furniture.sales": 2,
        "furniture.reclamations": 3,
        "b2b.sales": 4,
        "b2b.repeat": 5,
        "b2b.cold": 6,
        "eshop.orders": 7,
    }
    SHARED_STAGES = {"NEW": NEW, "CONVERTED": CONVERTED}

    def category(self, code):
        return self.CATEGORIES[code]

    def stage_id(self, entity, code):
        for raw, codes in self.SHARED_STAGES.items():
            if code in codes:
                return raw
        return code

    def stage_codes(self, entity, raw):
        return sorted(self.SHARED_STAGES.get(raw, {raw}))

    def stage_code(self, entity, raw):
        return raw

    def field_code(self, entity, raw):
        return raw

    def entity_for_type_id(self, etid):
        return {1: "lead", 2: "deal"}.get(etid)


def lead(stage="metal.lead.unprocessed", **fields):
    return {"stageId": stage, **fields}


def owner(record, installed=ALL, claims=CLAIMS, here=None, came=()):
    codes = (
        here
        if here is not None
        else Portal().stage_codes("lead", Portal().stage_id("lead", record["stageId"]))
    )
    return owner_of_lead(
        record, installed=installed, stage_codes=codes, from_codes=came, claims=claims
    )


# -- leads ----------------------------------------------------------------------------------


def test_the_stage_a_lead_is_in_names_its_playbook():
    assert owner(lead("kitchens.lead.measurement", sourceId="WEBFORM")) == "kitchens"
    assert owner(lead("furniture.lead.visited", sourceId="CALL")) == "furniture"
    assert owner(lead("b2b.lead.qualifying")) == "b2b"


def test_moving_into_a_shared_stage_keeps_the_playbook_it_came_through():
    record = lead("metal.lead.converted", sourceId="CALL")  # kitchens claims calls
    assert owner(record, here=CONVERTED, came={"metal.lead.handed_over"}) == "metal"
    assert owner(record, here=CONVERTED, came={"kitchens.lead.measurement"}) == "kitchens"


def test_in_the_shared_new_stage_the_source_decides_by_the_default_claims():
    assert owner(lead(sourceId="WEBFORM")) == "metal"
    assert owner(lead(sourceId="EMAIL")) == "metal"
    assert owner(lead(sourceId="CALL")) == "kitchens"
    chat = [{"typeId": "IM", "valueType": "OPENLINE", "value": "imol|livechat|1|67|21"}]
    assert owner(lead(sourceId="", fm=chat)) == "furniture"


def test_the_admins_form_and_line_claims_beat_a_source_claim():
    claims = {**CLAIMS, "b2b": ["form:12"], "kitchens": ["CALL", "line:telegrambot|3"]}
    assert owner(lead(sourceId="WEBFORM", webformId=12), claims=claims) == "b2b"
    assert owner(lead(sourceId="WEBFORM", webformId=13), claims=claims) == "metal"
    tg = [{"typeId": "IM", "value": "imol|telegrambot|3|9|1"}]
    other_line = [{"typeId": "IM", "value": "imol|telegrambot|31|9|1"}]
    assert owner(lead(fm=tg), claims=claims) == "kitchens"
    assert owner(lead(fm=other_line), claims=claims) == "furniture"  # its "line:" = any line


def test_unclaimed_leads_go_by_own_fields_then_the_star_claim_then_the_first_installed():
    bare = lead(sourceId="", title="Без данных")
    assert owner(bare) == "metal"  # first of NAMES with lead stages
    assert owner(bare, claims={**CLAIMS, "b2b": ["*"]}) == "b2b"
    kitchen = lead(sourceId="", UF_CRM_KT_BUDGET=400000, UF_CRM_KT_ADDRESS="Москва")
    assert owner(kitchen, claims={**CLAIMS, "b2b": ["*"]}) == "kitchens"
    # a source claim is stronger than filled fields
    assert owner({**kitchen, "sourceId": "WEBFORM"}) == "metal"


def test_one_lead_playbook_installed_owns_every_lead_and_none_owns_none():
    assert owner(lead(sourceId="CALL"), installed=("metal", "eshop")) == "metal"
    assert owner(lead(sourceId="CALL"), installed=("eshop",)) is None


def test_a_lead_in_a_removed_playbooks_own_stage_is_nobodys():
    visited = lead("furniture.lead.visited", sourceId="WEBFORM")
    assert owner(visited, installed=("metal", "kitchens")) is None
    assert record_owner("lead", visited, installed=("metal", "kitchens"), naming=Portal()) == NOBODY


def test_claims_of_unknown_shape_cover_nothing():
    record = lead(sourceId="WEBFORM", webformId=3)
    assert claim_strength("forms:3", record) == 0
    assert claim_strength("", record) == 0
    assert claim_strength("line:", record) == 0  # no open line on it
    assert claim_strength("webform", record) == SOURCE
    assert claim_strength("form:3", record) == FORM


# -- deals, smart processes, shared entities ------------------------------------------------


@pytest.mark.parametrize(
    "category,installed,expected",
    [
        (1, ALL, "metal"),
        (3, ALL, "furniture"),
        (6, ALL, "b2b"),
        (7, ALL, "eshop"),
        (0, ALL, NOBODY),  # the portal's own pipeline: nobody's
        (7, ("metal",), NOBODY),  # eshop's pipeline left behind on a metal-only portal
    ],
)
def test_a_deal_belongs_to_the_playbook_of_its_pipeline(category, installed, expected):
    record = {"categoryId": category, "stageId": f"C{category}:NEW"}
    assert record_owner("deal", record, installed=installed, naming=Portal()) == expected


def test_smart_process_items_contacts_and_tasks():
    assert record_owner("metal.object", {}, installed=ALL, naming=Portal()) == "metal"
    assert record_owner("metal.object", {}, installed=("eshop",), naming=Portal()) == NOBODY
    assert record_owner("dynamic:1099", {}, installed=ALL, naming=Portal()) == NOBODY
    assert record_owner("contact", {}, installed=ALL, naming=Portal()) is SHARED
    assert record_owner("company", {}, installed=ALL, naming=Portal()) is SHARED
    task = {"#tag": "kitchens.proposal"}
    assert record_owner("task", task, installed=ALL, naming=Portal()) == "kitchens"


def test_an_activity_belongs_to_the_owner_of_its_deal():
    activity = {"OWNER_TYPE_ID": "2", "OWNER_ID": "5"}
    related = {"owner": {"id": 5, "categoryId": 4, "stageId": "C4:NEW"}}
    got = record_owner("activity", activity, installed=ALL, naming=Portal(), related=related)
    assert got == "b2b"
    assert record_owner("activity", activity, installed=ALL, naming=Portal()) is SHARED


# -- the engine -----------------------------------------------------------------------------


def _decide(entity, record, installed=ALL, settings=None):
    table = dispatch.table_for(installed)
    settings = settings or {n: defaults(n) for n in installed}
    changes = diff("m", entity, 9, None, record, Portal())
    return decide(
        table,
        changes,
        record=changes[0].after,
        related={},
        settings=settings,
        schema=Portal(),
        now=NOW,
    )


def _playbooks(decisions):
    return {d.rule.playbook for d in decisions}


def test_only_the_owner_runs_on_a_new_record():
    order = {"id": 9, "categoryId": 7, "stageId": "C7:NEW", "title": "Заказ №1001"}
    assert _playbooks(_decide("deal", order)) <= {"eshop"}
    webform = {"id": 9, "stageId": "NEW", "sourceId": "WEBFORM", "title": "Заявка"}
    assert _playbooks(_decide("lead", webform)) == {"metal"}
    call = {"id": 9, "stageId": "NEW", "sourceId": "CALL", "title": "Звонок: ангар"}
    decisions = _decide("lead", call)
    assert _playbooks(decisions) == {"kitchens"}
    timers = [a for d in decisions for a in d.actions if isinstance(a, A.StartTimer)]
    assert [t.kind for t in timers] == ["kitchens.sos"]


def test_with_metal_alone_every_lead_is_metals_and_the_title_template_runs():
    call = {"id": 9, "stageId": "NEW", "sourceId": "CALL", "title": "Звонок: ангар"}
    decisions = _decide("lead", call, installed=("metal",))
    assert "lead_fill_new" in {d.rule.name for d in decisions}


def test_a_rule_may_not_start_another_playbooks_timer():
    start = A.StartTimer("kitchens.sos", NOW, ("lead", 9), key="x")
    rogue = Rule("rogue", "contact", on_created(), lambda ctx: [start], playbook="metal")
    table = dispatch.DispatchTable((rogue,), ("metal",))
    changes = diff("m", "contact", 9, None, {"id": 9}, Portal())
    (decision,) = decide(
        table, changes, record={}, related={}, settings={}, schema=Portal(), now=NOW
    )
    assert decision.error and "kitchens.sos" in decision.error and not decision.actions


def test_the_admins_setting_picks_whose_names_the_shared_lead_stages_carry(make_services):
    from app.installers.run import stage_names_from
    from app.playbooks.settings import set_value

    services = make_services()
    with services.session.begin() as s:
        assert stage_names_from(s, "m-names", ["metal", "kitchens"]) is None
        set_value(s, "m-names", "kitchens", "shared_lead_stage_names", "yes")
    with services.session() as s:
        assert stage_names_from(s, "m-names", ["metal", "kitchens"]) == "kitchens"
        assert stage_names_from(s, "m-names", ["metal"]) is None


def test_only_an_intake_rule_acts_on_a_record_nobody_owns():
    """A deal in the general pipeline is nobody's: ordinary rules leave it alone, the eshop
    order intake (``takes_unowned``) may take it into its own pipeline; a record another
    playbook owns stays out of reach of both."""
    from app.rules.ownership import may_act

    plain = Rule("r", "deal", on_created(), lambda ctx: [], playbook="eshop")
    intake = Rule("i", "deal", on_created(), lambda ctx: [], playbook="eshop", takes_unowned=True)
    assert not may_act(plain, NOBODY)
    assert may_act(intake, NOBODY)
    assert not may_act(intake, "metal") and not may_act(plain, "metal")
    assert may_act(plain, "eshop") and may_act(intake, SHARED)


def test_a_rule_may_start_timers_only_on_its_own_record_or_a_client():
    """#21: a timer on another lead/deal/item would fire later on a record whose owner the
    engine never asked — a rule error (nothing of that rule applied); the client (contact,
    company) is shared, and a record the same list creates is the rule's own."""
    from app.rules.actions import Ref

    def rule_starting(*refs):
        starts = [A.StartTimer("metal.x", NOW, ref, key=f"t{i}") for i, ref in enumerate(refs)]
        return Rule("r", "lead", on_created(), lambda ctx: starts, playbook="metal")

    def run(rule):
        table = dispatch.DispatchTable((rule,), ("metal",))
        record = {"id": 9, "stageId": "NEW", "sourceId": "WEBFORM"}
        changes = diff("m", "lead", 9, None, record, Portal())
        return decide(
            table, changes, record=record, related={}, settings={}, schema=Portal(), now=NOW
        )

    (ok,) = run(rule_starting(("lead", 9), ("contact", 4), ("company", 2), ("deal", Ref("d"))))
    assert ok.error is None and len(ok.actions) == 4
    for other in (("lead", 10), ("deal", 9), ("metal.object", 9)):
        (bad,) = run(rule_starting(("lead", 9), other))
        assert bad.error and "other records" in bad.error and str(other[0]) in bad.error
        assert bad.actions == ()


def test_eshop_takes_a_new_lead_from_the_open_line_it_claims():
    """#17: eshop has no lead stages but takes the leads of its own open line (its
    ``lead_claims``) while they are new — when its claim is more specific than every lead
    playbook's; a tie stays with the lead playbooks (furniture claims any line)."""
    tg = [{"typeId": "IM", "valueType": "OPENLINE", "value": "imol|telegrambot|3|67|21"}]
    other = [{"typeId": "IM", "valueType": "OPENLINE", "value": "imol|livechat|1|5|2"}]
    claims = {**CLAIMS, "eshop": ["line:telegrambot|3"]}
    assert owner(lead(fm=tg), claims=claims) == "eshop"
    assert owner(lead(fm=other), claims=claims) == "furniture"  # not eshop's line
    assert owner(lead(fm=tg)) == "furniture"  # eshop claims nothing by default
    tie = {**CLAIMS, "eshop": ["line:"]}
    assert owner(lead(fm=tg), claims=tie) == "furniture"
    # alone with metal (which claims no line) or with no lead playbook at all
    assert owner(lead(fm=tg), installed=("metal", "eshop"), claims=tie) == "eshop"
    assert owner(lead(fm=tg), installed=("eshop",), claims=claims) == "eshop"
    assert owner(lead(fm=tg), installed=("eshop",)) is None
    # past the first stage the lead is the lead playbooks' again
    worked = lead("furniture.lead.visited", fm=tg)
    assert owner(worked, claims=claims) == "furniture"
    converted = lead("metal.lead.converted", fm=tg)
    assert owner(converted, claims=claims, here=CONVERTED, came=NEW) != "eshop"
