"""Which hosts the app may call: portals and OAuth servers.

Every outbound call to a portal (the install verification, the gateway, ``b24 connect``) first
checks the host here, so a forged request can never make us call an arbitrary domain (SSRF).
Rules: the host must match ``settings.allowed_portal_domains`` (glob patterns such as
``*.bitrix24.com``) or be ``settings.emulator_address`` (host:port); ``https`` is required
except for the emulator address, which is the only host allowed over plain ``http``.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from config.settings import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _host_port(netloc_or_url: str) -> tuple[str | None, str | None, int | None]:
    """(scheme, host, port) of a URL or a bare ``host[:port]``; lower-cased host."""
    text = netloc_or_url.strip()
    if "://" not in text:
        text = "//" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None, None, None
    if parts.username is not None or parts.password is not None:
        return None, None, None  # user@host tricks are never legitimate here
    scheme = parts.scheme or None
    host = (parts.hostname or "").rstrip(".").lower() or None
    if port is None and scheme:
        port = _DEFAULT_PORTS.get(scheme)
    return scheme, host, port


def _is_emulator(host: str | None, port: int | None, settings: Settings) -> bool:
    if not settings.emulator_address or host is None:
        return False
    emu_host, _, emu_port = settings.emulator_address.rpartition(":")
    return host == emu_host.lower() and port == int(emu_port)


def _host_matches(host: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        pattern = pattern.strip().lower()
        if pattern.startswith("*."):
            # "*.bitrix24.com" matches "x.bitrix24.com" and deeper, never "evilbitrix24.com"
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif fnmatchcase(host, pattern):
            return True
    return False


def is_allowed_portal(domain: str | None, settings: Settings, *, scheme: str | None = None) -> bool:
    """True when ``domain`` (a host, ``host:port`` or a full URL) may be called as a portal.

    When a scheme is known (a URL, or ``scheme=``), plain http is accepted only for the
    emulator address; a bare host is checked by name (callers then build an https URL,
    or http only for the emulator, see :func:`portal_base_url`).
    """
    if not domain:
        return False
    url_scheme, host, port = _host_port(domain)
    scheme = url_scheme or scheme
    if host is None:
        return False
    if _is_emulator(host, port if port is not None else _DEFAULT_PORTS.get(scheme or ""), settings):
        return scheme in (None, "http", "https")
    if scheme not in (None, "https"):
        return False
    if port not in (None, 443):
        return False
    return _host_matches(host, settings.allowed_portal_domains)


def is_allowed_oauth_server(url: str | None, settings: Settings) -> bool:
    """True when ``url`` (e.g. ``https://oauth.bitrix.info/rest/``) is a trusted OAuth server."""
    if not url:
        return False
    scheme, host, port = _host_port(url)
    if host is None:
        return False
    if _is_emulator(host, port, settings):
        return scheme in ("http", "https")
    if scheme != "https" or port not in (None, 443):
        return False
    return _host_matches(host, settings.allowed_oauth_servers)


def portal_base_url(domain: str, settings: Settings) -> str:
    """``https://domain`` (or ``http://`` for the emulator address); raises if not allowed."""
    if not is_allowed_portal(domain, settings):
        raise PermissionError(f"portal domain not allowed: {domain!r}")
    _, host, port = _host_port(domain)
    if _is_emulator(host, port, settings):
        return f"http://{settings.emulator_address}"
    return f"https://{host}"
