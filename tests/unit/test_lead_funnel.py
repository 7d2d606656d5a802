"""The merged lead list shown in the plan, and the admin's choice of whose names the shared
lead stages carry (``app.installers.desired``; setting ``shared_lead_stage_names``)."""

from app.installers.desired import build, lead_funnel


def _line(lines, status_id):
    return next(line for line in lines if f" {status_id} " in line)


def test_the_plan_shows_the_merged_funnel_only_when_the_lead_list_is_shared():
    assert lead_funnel(build(["metal", "eshop"])) == []
    lines = lead_funnel(build(["metal", "kitchens", "furniture"]))
    assert lines[0].startswith("lead list shared by metal, furniture, kitchens")
    assert _line(lines, "NEW").endswith("metal, furniture, kitchens")
    assert _line(lines, "KT_MEASURE").endswith("kitchens")
    assert _line(lines, "JUNK").endswith("metal, furniture")
    # in-progress stages first, then success, then failures
    kinds = [line[2] for line in lines[1:]]
    assert kinds == sorted(kinds, key=" SF".index)


def test_the_shared_stages_carry_the_chosen_playbooks_names_and_keep_the_first_code():
    default = build(["metal", "kitchens"])
    chosen = build(["metal", "kitchens"], stage_names_from="kitchens")
    assert "«Конвертирован в сделку»" in _line(lead_funnel(default), "CONVERTED")
    assert "«Ура, согласие получено»" in _line(lead_funnel(chosen), "CONVERTED")
    converted = next(s for s in chosen.lead_stages if s.status_id == "CONVERTED")
    assert converted.code == "metal.lead.converted"  # rules and the mirror keep this code
    assert chosen.stage_aliases["kitchens.lead.agreed"] == "metal.lead.converted"
    # a playbook's own stages are untouched by the choice
    assert [s.name for s in chosen.lead_stages if s.status_id.startswith("MT_")] == [
        s.name for s in default.lead_stages if s.status_id.startswith("MT_")
    ]
