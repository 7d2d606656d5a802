"""``flask b24 kitchens calibrate``: closed leads from the mirror, classes, suggestion, read-only."""

import json

from app.playbooks.settings import effective
from app.store import installations, mirror

M = "member-kitchens-cal"
RICH = {  # total 0.78 with the default model → A (settings: A ≥ 0.7); see test_kitchens_scoring
    "UF_CRM_KT_BUDGET": 600000,
    "UF_CRM_KT_MATERIAL": "Массив",
    "UF_CRM_KT_HOUSE_TYPE": "Новостройка",
    "UF_CRM_KT_KITCHEN_TYPE": "Угловая",
    "UF_CRM_KT_COUNTERTOP": "Кварц",
    "UF_CRM_KT_APRON": "Стекло",
    "UF_CRM_KT_APPLIANCES": "Наша, полностью",
    "UF_CRM_KT_BUYER": "Для себя",
    "UF_CRM_KT_URGENCY": "Срочно, до месяца",
}
POOR = {"UF_CRM_KT_BUDGET": "150 000"}  # total 0.09 → C


def _portal(services, leads):
    with services.session() as s:
        installations.upsert_verified(
            s,
            M,
            domain="kt.example",
            auth_mode="webhook",
            webhook_url="http://127.0.0.1:1/rest/1/x/",
            status="active",
            playbooks=["kitchens"],
        )
        for i, (stage, fields) in enumerate(leads, start=1):
            mirror.put(s, M, "lead", i, {"id": i, "stageId": stage, **fields})
        s.commit()


def _run(services, *args):
    from app.web import create_app

    runner = create_app(services=services).test_cli_runner()
    return runner.invoke(args=["b24", "kitchens", "calibrate", "--portal", M, *args])


def test_classes_of_closed_leads_and_a_suggestion_without_touching_settings(make_services):
    services = make_services()
    won, lost = "kitchens.lead.agreed", "kitchens.lead.lost"
    _portal(
        services,
        [(won, RICH)] * 3
        + [(lost, RICH)]
        + [(lost, POOR)] * 3
        + [(won, POOR)]
        + [("kitchens.lead.qualified", RICH)] * 2,  # open leads are not counted
    )
    result = _run(services, "--json", "--min-class-size", "1")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["closed_leads"] == 8
    assert summary["current"] == [
        {"class": "A", "leads": 4, "won": 3, "win_rate": 0.75},
        {"class": "B", "leads": 0, "won": 0, "win_rate": None},
        {"class": "C", "leads": 4, "won": 1, "win_rate": 0.25},
    ]
    with services.session() as s:
        assert effective(s, M, "kitchens")["abc_thresholds"] == {"A": 0.7, "B": 0.4}


def test_text_report_and_unknown_portal(make_services):
    services = make_services()
    _portal(services, [("kitchens.lead.agreed", RICH), ("kitchens.lead.lost", POOR)])
    text = _run(services).output
    assert "Закрытых лидов: 2" in text and "A: 1 лидов, выиграно 1 (100%)" in text
    from app.web import create_app

    bad = (
        create_app(services=services)
        .test_cli_runner()
        .invoke(args=["b24", "kitchens", "calibrate", "--portal", "nope"])
    )
    assert bad.exit_code == 1 and "no installation with member_id 'nope'" in bad.output
