"""``b24 settings``: --portal by member_id or domain, templates checked against the fields
they may name, --reset, labels/units/examples, and errors as one readable line."""

from __future__ import annotations

import pytest

from app.playbooks.settings import effective
from app.store import installations

M = "a" * 32
DOMAIN = "acme.bitrix24.com"


@pytest.fixture
def cli(flask_app, services):
    with services.session.begin() as s:
        installations.upsert_verified(s, M, domain=DOMAIN, auth_mode="webhook", status="active")
    runner = flask_app.test_cli_runner()
    return lambda *args: runner.invoke(args=["b24", "settings", *args])


def _stored(services, playbook="metal"):
    with services.session() as s:
        return effective(s, M, playbook)


def test_an_unknown_template_field_is_refused_with_the_valid_names(cli, services):
    before = _stored(services)
    out = cli(
        "--portal", M, "--playbook", "metal",
        "--set", "deferred_after_days=90",
        "--set", "title_template={source} · {nosuchfield}",
    )  # fmt: skip
    assert out.exit_code == 1
    line = out.output.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith("Error: title_template: unknown field {nosuchfield}; valid: ")
    for name in ("area", "site", "source", "responsible", "title", "UF_CRM_MT_AREA"):
        assert name in line
    assert _stored(services) == before  # the valid --set beside it was not applied either


def test_a_known_template_is_stored_and_reset_restores_the_default(cli, services):
    default = _stored(services)["title_template"]
    ok = cli(
        "--portal", DOMAIN, "--playbook", "metal", "--set", "title_template={site}[ {area} м²]"
    )
    assert ok.exit_code == 0, ok.output
    assert 'title_template = "{site}[ {area} м²]" *' in ok.output
    assert _stored(services)["title_template"] == "{site}[ {area} м²]"
    back = cli("--portal", f"https://{DOMAIN}/", "--playbook", "metal", "--reset", "title_template")
    assert back.exit_code == 0, back.output
    assert _stored(services)["title_template"] == default
    assert (
        "title_template = " in back.output
        and "*" not in back.output.split("title_template")[1].split("\n")[0]
    )


def test_kitchens_title_names_its_own_placeholders(cli):
    bad = cli("--portal", M, "--playbook", "kitchens", "--set", "abc_title_template={klass}")
    assert bad.exit_code == 1 and "unknown field {klass}" in bad.output
    assert "class" in bad.output and "kitchen_type" in bad.output
    good = cli(
        "--portal", M, "--playbook", "kitchens", "--set", "abc_title_template={class} · {client}"
    )
    assert good.exit_code == 0, good.output


def test_listing_shows_label_unit_and_an_example(cli):
    out = cli("--portal", M, "--playbook", "metal")
    assert out.exit_code == 0, out.output
    text = out.output
    assert "deferred_after_days = 183" in text
    assert "Deferred demand threshold, days / Отложенный спрос" in text
    assert "; days; e.g. --set deferred_after_days='183'" in text
    assert "title_template" in text and "; template; " in text
    assert "; JSON list; e.g. --set routing_table='[]'" in text


def test_errors_are_one_line_without_a_repr(cli):
    out = cli("--portal", M, "--playbook", "metal", "--set", "nosuch=1")
    assert out.exit_code == 1
    assert out.output.strip() == "Error: metal has no setting 'nosuch'"
    unknown = cli("--portal", "nowhere.bitrix24.com", "--playbook", "metal")
    assert unknown.exit_code == 1
    assert "no installation with member_id 'nowhere.bitrix24.com'" in unknown.output
    assert f"known: {DOMAIN} ({M})" in unknown.output
    reset_unknown = cli("--portal", M, "--playbook", "metal", "--reset", "nosuch")
    assert reset_unknown.output.strip() == "Error: metal has no setting 'nosuch'"
