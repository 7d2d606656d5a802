"""Allow-list: cloud portals over https, the emulator address (only it over http)."""

from __future__ import annotations

import pytest

from app.allowlist import is_allowed_oauth_server, is_allowed_portal, portal_base_url
from config.settings import Settings

S = Settings(emulator_address="127.0.0.1:8900")


@pytest.mark.parametrize(
    "domain",
    ["example.bitrix24.com", "EXAMPLE.bitrix24.ru", "https://a.bitrix24.de/rest/", "127.0.0.1:8900",
     "http://127.0.0.1:8900/rest/1/x/"],
)  # fmt: skip
def test_allowed(domain):
    assert is_allowed_portal(domain, S)


@pytest.mark.parametrize(
    "domain",
    [
        "evil.com", "bitrix24.com.evil.com", "evilbitrix24.com", "http://example.bitrix24.com",
        "example.bitrix24.com:8443", "127.0.0.1", "127.0.0.1:8901", "https://u:p@a.bitrix24.com",
        "", None, "localhost:8900",
        # issue #20 way in 2: parsers that disagree with the connecting library
        "localhost\\.bitrix24.ru", "https://localhost\\.bitrix24.ru/rest/",
        "a.bitrix24.ru\\@127.0.0.1", "https://evil.com#@a.bitrix24.ru/", "a.bitrix24.ru%2f@x",
        "https://a.bitrix24.ru%2f@x/", "[::1]:8900", "a.bitrix24.ru:99999", "a .bitrix24.ru",
        "a.bitrix24.ru\n", "https://a.bitrix24.ru/re\\st/", "ftp://a.bitrix24.ru/",
        "-a.bitrix24.ru", "a..bitrix24.ru", 12,
    ],
)  # fmt: skip
def test_refused(domain):
    assert not is_allowed_portal(domain, S)


def test_emulator_not_allowed_when_not_configured():
    assert not is_allowed_portal("127.0.0.1:8900", Settings())


def test_oauth_servers():
    assert is_allowed_oauth_server("https://oauth.bitrix.info/rest/", S)
    assert is_allowed_oauth_server("http://127.0.0.1:8900/rest/", S)
    assert not is_allowed_oauth_server("http://oauth.bitrix.info/rest/", S)
    assert not is_allowed_oauth_server("https://oauth.bitrix.info.evil.org/", S)
    assert not is_allowed_oauth_server("https://example.bitrix24.com/rest/", S)


def test_base_url():
    assert portal_base_url("Example.bitrix24.com", S) == "https://example.bitrix24.com"
    assert portal_base_url("127.0.0.1:8900", S) == "http://127.0.0.1:8900"
    with pytest.raises(PermissionError):
        portal_base_url("evil.com", S)


def test_idna_hosts_are_normalised_before_comparison():
    """A Unicode portal name is compared (and called) in its IDNA form."""
    assert is_allowed_portal("пример.bitrix24.ru", S)
    assert portal_base_url("Пример.bitrix24.ru", S) == "https://xn--e1afmkfd.bitrix24.ru"


def test_refusal_names_nothing_about_the_network():
    with pytest.raises(PermissionError) as refused:
        portal_base_url("localhost\\.bitrix24.ru", S)
    assert "localhost" not in str(refused.value)


def test_several_emulated_portals_each_allowed_over_http_and_nothing_else():
    two = Settings.from_env({"EMULATOR_ADDRESS": "127.0.0.1:8900, 127.0.0.1:8901"}, dotenv=False)
    assert portal_base_url("127.0.0.1:8901", two) == "http://127.0.0.1:8901"
    assert portal_base_url("127.0.0.1:8900", two) == "http://127.0.0.1:8900"
    assert not is_allowed_portal("127.0.0.1:8902", two)
    assert not is_allowed_portal("http://127.0.0.1:8901", S)  # one address: only that one
    with pytest.raises(Exception, match="EMULATOR_ADDRESS"):
        Settings.from_env({"EMULATOR_ADDRESS": "127.0.0.1:8900,evil"}, dotenv=False)
