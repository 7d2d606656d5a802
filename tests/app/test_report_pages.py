"""The reports page's APIs (app.handlers.report_pages): filters, charts, CSV, refusals.

The portal runs at UTC+03:00 here, so the period's days are the portal's days: a lead made
at 22:30 UTC on 2 Nov belongs to 3 Nov. Placement of the page: CRM_ANALYTICS_MENU
(api-reference/widgets/crm/analytics-menu.md)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from app.reports.filters import applicable
from app.store import installations, mirror, people
from app.widgets._viewer import Viewer, issue_bearer, page_key

M = "member-report-pages"
APP_TOKEN = "e" * 32
HOSTILE = "<script>window.pwned=1</script>"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def client(services, flask_client):
    with services.session.begin() as s:
        installations.upsert_verified(
            s,
            M,
            domain="acme.bitrix24.ru",
            client_endpoint="https://acme.bitrix24.ru/rest/",
            auth_mode="oauth",
            access_token="a",
            refresh_token="r",
            application_token=APP_TOKEN,
            status="active",
            playbooks=["eshop", "metal"],
        )
        users = {"1": {"name": "Анна Петрова"}, "2": {"name": HOSTILE}, "3": {"name": "=1+2"}}
        people.put(s, M, users, "+03:00", T0)
        leads = [
            (1, "1", T0),
            (2, "1", T0 + timedelta(hours=1)),
            (3, "2", T0 + timedelta(hours=2)),
            (4, "3", T0 + timedelta(hours=14, minutes=30)),  # 22:30 UTC = 3 Nov 01:30 +03
        ]
        for rid, who, created in leads:
            data = {
                "id": rid,
                "stageId": "NEW",
                "assignedById": who,
                "createdTime": created.isoformat(),
            }
            mirror.put(s, M, "lead", rid, data, at=created)
        mirror.put(s, M, "deal", 7, {"id": 7, "stageId": "NEW"}, at=T0)
        mirror.put(s, M, "deal", 7, {"id": 7, "stageId": "PAID"}, at=T0 + timedelta(hours=3))
    return flask_client


def _get(client, path, *, user=2, admin=False, member=M):
    key = page_key(client.application.extensions["services"], member, APP_TOKEN)
    bearer = issue_bearer(key, member, Viewer(user, "", admin))
    return client.get(path, headers={"Authorization": f"Bearer {bearer}"})


def _rects(svg: str) -> int:
    return len(re.findall(r'<rect[^>]*class="rect reactive tooltip-trigger"', svg))


def test_a_manager_sees_the_report_with_a_bar_per_manager_and_the_period_in_portal_days(client):
    day2 = _get(client, f"/pages/{M}/reports/metal_managers?since=2026-11-02&until=2026-11-02")
    assert day2.status_code == 200, day2.get_data(as_text=True)
    body = day2.get_json()
    table = body["tables"][0]
    assert table["headers"][:2] == ["Менеджер", "Лидов"]
    assert table["note"].startswith("Лиды считаются по дате создания")
    leads = {row[0]: row[1] for row in table["rows"]}
    assert leads == {"Анна Петрова": 2, HOSTILE: 1}  # lead 4 is 3 Nov in the portal's zone
    assert body["managers"] == sorted(leads, key=str.casefold)
    (chart,) = body["charts"]
    assert chart["kind"] == "hbar" and chart["marks"] == 2 == _rects(chart["svg"])
    # the label is text in the SVG, and the SVG carries no script at all
    assert "&lt;script&gt;" in chart["svg"] and "<script" not in chart["svg"]
    both = _get(client, f"/pages/{M}/reports/metal_managers?since=2026-11-02&until=2026-11-03")
    assert {row[0]: row[1] for row in both.get_json()["tables"][0]["rows"]}["=1+2"] == 1
    empty = _get(client, f"/pages/{M}/reports/metal_managers?since=2026-10-01&until=2026-10-31")
    assert empty.get_json()["tables"][0]["rows"] == [] and empty.get_json()["charts"] == []


def test_the_manager_filter_keeps_that_managers_rows(client):
    url = (
        f"/pages/{M}/reports/metal_managers?since=2026-11-01&until=2026-11-30&manager=Анна Петрова"
    )
    body = _get(client, url).get_json()
    assert [row[:2] for row in body["tables"][0]["rows"]] == [["Анна Петрова", 2]]
    assert body["tables"][0]["by_manager"] is True
    assert len(body["managers"]) == 3  # the choices stay the unfiltered ones
    assert body["charts"][0]["marks"] == 1


def test_time_in_stage_is_a_bar_per_stage(client):
    body = _get(
        client, f"/pages/{M}/reports/order_timing?since=2026-11-02&until=2026-11-02"
    ).get_json()
    stages = body["tables"][0]
    assert {row[0] for row in stages["rows"]} == {"NEW", "PAID"}
    assert body["charts"][0]["marks"] == 2 == _rects(body["charts"][0]["svg"])
    assert body["tables"][1]["by_manager"] is False  # no person column: never split


@pytest.mark.parametrize(
    ("query", "ru", "en"),
    [
        ("since=2026-13-01", "ожидается ГГГГ-ММ-ДД, получено '2026-13-01'", "YYYY-MM-DD"),
        ("until=tomorrow", "Дата «по»", "'until'"),
        ("since=20261101", "ГГГГ-ММ-ДД", "YYYY-MM-DD"),
        ("since=2026-11-05&until=2026-11-01", "позже", "after"),
    ],
)
def test_a_bad_date_is_a_readable_400(client, query, ru, en):
    refused = _get(client, f"/pages/{M}/reports/metal_managers?{query}")
    assert refused.status_code == 400 and ru in refused.get_json()["error"]
    refused_en = _get(client, f"/pages/{M}/reports/metal_managers/csv?{query}&lang=en")
    assert refused_en.status_code == 400 and en in refused_en.get_json()["error"]


def test_only_the_installed_playbooks_reports_and_only_with_a_valid_bearer(client):
    assert _get(client, f"/pages/{M}/reports/b2b_tasks").status_code == 404  # b2b not here
    assert _get(client, f"/pages/{M}/reports/nope").status_code == 404
    assert client.get(f"/pages/{M}/reports/metal_managers").status_code == 401
    other = _get(client, "/pages/other-portal/reports/metal_managers", member="other-portal")
    assert other.status_code == 401
    names = [s.name for s in applicable(["metal"])]
    assert "metal_managers" in names and "lead_sources" in names
    assert not [n for n in names if n.startswith(("b2b", "eshop"))]


def test_csv_opens_in_excel_with_cyrillic_and_no_formulas(client):
    url = f"/pages/{M}/reports/metal_managers/csv?since=2026-11-02&until=2026-11-03"
    resp = _get(client, url)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        'filename="metal_managers_2026-11-02_2026-11-03.csv"' in resp.headers["Content-Disposition"]
    )
    raw = resp.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Работа менеджеров с лидами"]
    assert rows[1][:2] == ["Менеджер", "Лидов"]
    data = {r[0]: r[1] for r in rows[2:5]}
    assert data == {"Анна Петрова": "2", HOSTILE: "1", "'=1+2": "1"}  # no formula for Excel
    en = _get(client, url + "&lang=en&manager=Анна Петрова").get_data().decode("utf-8-sig")
    en_rows = list(csv.reader(io.StringIO(en)))
    assert en_rows[1][:2] == ["Manager", "Leads"] and en_rows[2][:2] == ["Анна Петрова", "2"]
    assert len([r for r in en_rows if r and r[0] == "Анна Петрова"]) == 1


def test_period_days_are_inclusive_and_some_reports_take_only_part_of_it():
    from datetime import timezone

    from app.reports.filters import period

    msk = timezone(timedelta(hours=3))
    p = period("metal_managers", "2026-11-01", "2026-11-30", msk)
    assert (p.since, p.until) == (
        datetime(2026, 11, 1, tzinfo=msk),
        datetime(2026, 12, 1, tzinfo=msk),
    )
    assert (p.first_day, p.last_day) == ("2026-11-01", "2026-11-30")
    debts = period("b2b_debts", "2026-11-01", "2026-11-30", msk)  # debts as of the end
    assert debts.since is None and debts.until == datetime(2026, 12, 1, tzinfo=msk)
    standings = period("eshop_clients", "2026-11-01", "2026-11-30", msk)  # current standings
    assert (standings.since, standings.until) == (None, None)
    assert period("metal_managers", "", "", msk).since is None


def test_a_portal_whose_playbooks_have_no_reports_sees_so_without_a_portal_call(services):
    from app.widgets import WidgetContext
    from app.widgets.reports import render_page

    with services.session.begin() as s:
        installations.upsert_verified(
            s, "kitchens-only", domain="k.bitrix24.ru", client_endpoint="https://k.bitrix24.ru/rest/",
            auth_mode="oauth", access_token="a", refresh_token="r", application_token=APP_TOKEN,
            status="active", playbooks=["kitchens"],
        )  # fmt: skip
    ctx = WidgetContext(
        member_id="kitchens-only", domain="k.bitrix24.ru", code="reports",
        placement="CRM_ANALYTICS_MENU", record_id=None, options={}, lang="en", bearer="",
        services=services, auth_id="",  # no AUTH_ID: asking the portal who looks would be a 401
    )  # fmt: skip
    html = render_page(ctx)
    assert "The installed playbooks have no reports" in html and 'id="rp-report"' not in html


def test_every_report_of_the_old_b2b_page_is_on_the_reports_page(client, services):
    """The b2b playbook's own «Отчёты B2B» page (removed) showed every b2b report with a
    period; the app's «Отчёты» page lists each of them for a b2b portal and answers them for
    a period (moved here from the old page's test)."""
    from app.reports import REPORTS

    with services.session.begin() as s:
        installations.get(s, M).playbooks = ["b2b"]
    old_page = {name for name, spec in REPORTS.items() if spec.playbook == "b2b"}
    assert old_page and old_page <= {s.name for s in applicable(["b2b"])}
    for name in sorted(old_page):
        resp = _get(client, f"/pages/{M}/reports/{name}?since=2026-11-01&until=2026-11-30&lang=en")
        assert resp.status_code == 200, (name, resp.get_data(as_text=True))
    conversion = _get(
        client, f"/pages/{M}/reports/b2b_conversion?since=2026-11-01&until=2026-11-30&lang=en"
    ).get_json()
    assert conversion["tables"][0]["title"] == "Lead → deal conversion per manager"
    assert (conversion["period"]["since"], conversion["period"]["until"]) == (
        "2026-11-01",
        "2026-11-30",
    )


def _second_pipeline(services) -> None:
    """metal's «Металлоконструкции» pipeline (categoryId 7, as the installer recorded it)
    with a deal that moved there on 2 Nov, next to deal 7 of the default pipeline."""
    from app.store import schema_objects
    from app.store.schema_objects import Known

    with services.session.begin() as s:
        schema_objects.record(
            s, M, [Known("category", "metal.deal", "7", None, True, {"entityTypeId": 2})]
        )
        deal = {"id": 8, "categoryId": "7", "stageId": "C7:NEW", "assignedById": "1"}
        mirror.put(s, M, "deal", 8, deal, at=T0)
        mirror.put(s, M, "deal", 8, {**deal, "stageId": "C7:WON"}, at=T0 + timedelta(hours=5))


def test_the_pipeline_filter_keeps_that_pipelines_deals(client, services):
    _second_pipeline(services)
    url = f"/pages/{M}/reports/order_timing?since=2026-11-02&until=2026-11-02"
    whole = _get(client, url).get_json()
    assert whole["by_pipeline"] is True and whole["pipeline"] == ""
    assert whole["pipelines"] == [
        {"id": "0", "name": "Основная воронка"},
        {"id": "7", "name": "Металлоконструкции"},
    ]
    assert [row[0] for row in whole["tables"][1]["rows"]] == [7, 8]
    metal = _get(client, url + "&pipeline=7").get_json()
    assert metal["pipeline"] == "7"
    assert [row[0] for row in metal["tables"][1]["rows"]] == [8]
    assert {row[0] for row in metal["tables"][0]["rows"]} == {"C7:NEW", "C7:WON"}
    default = _get(client, url + "&pipeline=0&lang=en").get_json()
    assert [row[0] for row in default["tables"][1]["rows"]] == [7]
    assert default["pipelines"][0] == {"id": "0", "name": "Default pipeline"}
    csv_rows = _get(client, url.replace("order_timing?", "order_timing/csv?") + "&pipeline=7")
    assert "C7:WON" in csv_rows.get_data(as_text=True)
    assert "PAID" not in csv_rows.get_data(as_text=True)  # deal 7's stage: another pipeline


def test_a_report_without_deals_of_several_pipelines_says_it_takes_none(client, services):
    _second_pipeline(services)
    body = _get(client, f"/pages/{M}/reports/eshop_clients?pipeline=7").get_json()
    assert body["by_pipeline"] is False and len(body["pipelines"]) == 2


@pytest.mark.parametrize("value", ["99", "abc", "7; DROP TABLE"])
def test_an_unknown_pipeline_is_a_readable_400(client, value):
    refused = _get(client, f"/pages/{M}/reports/order_timing?pipeline={value}")
    assert refused.status_code == 400
    assert f"на портале нет воронки сделок {value!r}" in refused.get_json()["error"]
    refused_en = _get(client, f"/pages/{M}/reports/metal_managers/csv?pipeline={value}&lang=en")
    assert refused_en.status_code == 400
    assert f"the portal has no deal pipeline {value!r}" in refused_en.get_json()["error"]
