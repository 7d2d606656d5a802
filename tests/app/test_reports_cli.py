"""``flask b24 report`` output and exit codes."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.store import mirror

M = "member-reports-cli"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def cli(flask_app, services):
    with services.session() as s:
        mirror.put(s, M, "deal", 7, {"id": 7, "stageId": "NEW"}, at=T0)
        mirror.put(s, M, "deal", 7, {"id": 7, "stageId": "PAID"}, at=T0 + timedelta(hours=3))
        s.commit()
    runner = flask_app.test_cli_runner()
    return lambda *args: runner.invoke(args=["b24", "report", *args])


def test_json_output_has_the_numbers(cli):
    out = cli(
        "order_timing",
        "--portal",
        M,
        "--since",
        "2026-11-02",
        "--until",
        "2026-11-03",
        "--format",
        "json",
    )
    assert out.exit_code == 0, out.output
    stages, orders = json.loads(out.stdout)
    # NEW 8:00-11:00 = 3h; PAID open 11:00 until midnight = 13h; order 7 total 16h
    assert ["NEW", 1, 3.0, 3.0] in stages["rows"]
    assert ["PAID", 1, 13.0, 13.0] in stages["rows"]
    assert orders["rows"] == [[7, 16.0]]


def test_csv_and_errors(cli):
    out = cli("order_timing", "--portal", M, "--until", "2026-11-03", "--format", "csv")
    assert out.exit_code == 0 and "order,total_h\n7,16.0" in out.stdout
    assert cli("nope", "--portal", M).exit_code == 2
    assert cli("order_timing", "--portal", "ghost").exit_code == 2
    bad = cli("order_timing", "--portal", M, "--since", "2026-13-01")
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    assert "Traceback" not in bad.output


def test_pipeline_option_keeps_one_pipelines_deals_and_refuses_unknown_ones(cli, services):
    """``--pipeline`` is the reports page's pipeline filter on the command line."""
    with services.session() as s:
        deal = {"id": 8, "stageId": "C5:NEW", "categoryId": 5}
        mirror.put(s, M, "deal", 8, deal, at=T0)
        mirror.put(s, M, "deal", 8, {**deal, "stageId": "C5:WON"}, at=T0 + timedelta(hours=1))
        s.commit()
    period = ("--portal", M, "--since", "2026-11-02", "--until", "2026-11-03")

    def orders(*extra):
        out = cli("order_timing", *period, "--format", "json", *extra)
        assert out.exit_code == 0, out.output
        return [row[0] for row in json.loads(out.stdout)[1]["rows"]]

    assert sorted(orders()) == [7, 8]
    assert orders("--pipeline", "5") == [8]
    assert orders("--pipeline", "0") == [7]  # a deal stored without one is in the default
    listed = cli("order_timing", "--portal", M, "--pipeline", "list")
    assert listed.exit_code == 0 and listed.stdout.splitlines()[0].startswith("0\t")
    assert "5\tPipeline #5" in listed.stdout
    unknown = cli("order_timing", *period, "--pipeline", "31")
    assert unknown.exit_code == 2 and "no deal pipeline '31'" in unknown.output
    whole = cli("eshop_clients", *period, "--pipeline", "5")
    assert whole.exit_code == 2 and "does not take a pipeline" in whole.output
    assert "Traceback" not in unknown.output + whole.output
