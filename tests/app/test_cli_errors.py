"""CLI errors a person can read: one ``Error: …`` line, never a traceback or a repr."""

from __future__ import annotations

import pytest

from app.cli.common import normalize_domain, readable
from app.portal.errors import HostNotAllowed, InvalidField, TokenExpired
from app.store import installations

M = "b" * 32


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://Acme.Bitrix24.com/rest/", "acme.bitrix24.com"),
        ("acme.bitrix24.com", "acme.bitrix24.com"),
        ("127.0.0.1:8900", "127.0.0.1:8900"),
    ],
)
def test_a_domain_is_matched_however_it_is_pasted(given, expected):
    assert normalize_domain(given) == expected


def test_readable_names_the_fix_and_never_a_repr():
    assert "ALLOWED_PORTAL_DOMAINS" in readable(HostNotAllowed("HOST_NOT_ALLOWED", "nope"))
    assert "B24_CLIENT_SECRET" in readable(TokenExpired("NO_CLIENT_SECRET", "unset"))
    assert readable(KeyError("metal has no setting 'x'")) == "metal has no setting 'x'"
    text = readable(InvalidField("CRM_FIELD_ERROR", "bad stage", method="crm.item.update"))
    assert text == "the portal answered CRM_FIELD_ERROR to crm.item.update: bad stage"
    assert readable(RuntimeError("boom\nsecond line")) == "RuntimeError: boom"


def _invoke(services, *args):
    from app.web import create_app

    return create_app(services=services).test_cli_runner().invoke(args=["b24", *args])


def test_a_portal_that_is_not_allowed_is_one_line(make_services):
    """The issue's HOST_NOT_ALLOWED traceback: now one line saying what to set."""
    services = make_services()
    with services.session.begin() as s:
        installations.upsert_verified(
            s, M, domain="portal.example.org", auth_mode="webhook", status="active",
            webhook_url="https://portal.example.org/rest/1/abc/",
        )  # fmt: skip
    out = _invoke(services, "plan", "--portal", "portal.example.org")
    assert out.exit_code == 1
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert "ALLOWED_PORTAL_DOMAINS" in lines[0] and "Traceback" not in out.output


def test_an_expired_token_without_the_app_secret_is_one_line(emulator, make_services):
    """The issue's NO_CLIENT_SECRET traceback: an OAuth install whose token expired, and no
    B24_CLIENT_ID/B24_CLIENT_SECRET to refresh it with."""
    from tests.app._robots_world import install_app, register_app

    services = make_services(emulator_address=emulator.domain)  # no client id/secret
    install_app(emulator, services, register_app(emulator))
    emulator.admin.clock(advance=2 * 3600)  # the access token expires on the portal
    out = _invoke(services, "plan", "--portal", emulator.domain)
    assert out.exit_code == 1, out.output
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and "B24_CLIENT_ID/B24_CLIENT_SECRET" in lines[0], out.output
    assert "Traceback" not in out.output
