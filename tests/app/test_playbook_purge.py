"""``playbooks remove NAME --purge`` plans to delete only what NAME alone created
(``app.installers.playbook_purge``): never another playbook's objects, never a shared lead
stage, never an adopted object. The portal side: tests/e2e/test_playbooks_add_remove.py."""

from app.installers.playbook_purge import plan_purge
from app.store import schema_objects
from app.store.schema_objects import Known

M = "member-purge"


def _store(services, *rows):
    with services.session.begin() as s:
        schema_objects.record(s, M, rows)


def test_only_the_playbooks_own_created_objects_are_planned(services):
    _store(
        services,
        Known("field", "lead:UF_CRM_FR_CITY", "11", "UF_CRM_FR_CITY", True, {"entity": "lead"}),
        Known("field", "lead:UF_CRM_FR_STORE", "12", "UF_CRM_FR_STORE", False, {"entity": "lead"}),
        Known("field", "lead:UF_CRM_MT_WIDTH", "13", "UF_CRM_MT_WIDTH", True, {"entity": "lead"}),
        Known("stage", "furniture.lead.visited", "21", "FR_VISITED", True, {"list": "STATUS"}),
        Known("stage", "furniture.lead.new", "22", "NEW", True, {"list": "STATUS"}),
        Known("stage", "metal.lead.unprocessed", "23", "NEW", True, {"list": "STATUS"}),
        Known("category", "furniture.sales", "5", None, True, {"entityTypeId": 2}),
        Known("category", "furniture.reclamations", "6", None, False, {"entityTypeId": 2}),
        Known("category", "metal.deal", "1", None, True, {"entityTypeId": 2}),
        Known("stage", "furniture.deal.new", "31", "C5:NEW", True, {"list": "DEAL_STAGE_5"}),
        Known("robot", "handoff_to_store", "handoff_to_store", "handoff_to_store", True),
    )
    with services.session() as s:
        purge = plan_purge(s, M, "furniture", ["metal"])
    planned = [(k.kind, k.code) for k in purge.delete]
    assert planned == [
        ("field", "lead:UF_CRM_FR_CITY"),  # fields first, then stages, then pipelines
        ("stage", "furniture.lead.visited"),
        ("category", "furniture.sales"),
    ]
    # the deal stage goes with its pipeline; the wiring is `remove`'s own business
    assert [k.code for k in purge.with_containers] == ["furniture.deal.new"]
    assert purge.fields() == {"lead:UF_CRM_FR_CITY"}
    text = purge.render()
    assert "furniture.sales" in text and "UF_CRM_MT" not in text and "STORE" not in text


def test_the_portals_own_lead_statuses_and_stages_others_use_stay(services):
    """With eshop remaining (no lead stages) furniture's FR_VISITED goes, but NEW — the
    portal's own lead status, renamed by furniture — stays; with kitchens remaining,
    kitchens uses NEW too."""
    _store(
        services,
        Known("stage", "furniture.lead.new", "22", "NEW", True, {"list": "STATUS"}),
        Known("stage", "furniture.lead.visited", "21", "FR_VISITED", True, {"list": "STATUS"}),
    )
    with services.session() as s:
        for remaining in (["eshop"], ["kitchens"]):
            purge = plan_purge(s, M, "furniture", remaining)
            assert [k.code for k in purge.delete] == ["furniture.lead.visited"]
