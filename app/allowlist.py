"""Which hosts the app may call: portals and OAuth servers.

Every outbound call to a portal (the install verification, the gateway, ``b24 connect``) first
checks the host here, so a forged request can never make us call an arbitrary domain (SSRF).
Rules: the host must match ``settings.allowed_portal_domains`` (glob patterns such as
``*.bitrix24.com``) or be ``settings.emulator_address`` (host:port); ``https`` is required
except for the emulator address, which is the only host allowed over plain ``http``.

Parsing is strict, and judged by the libraries that connect: a host is only ``[a-z0-9.-]``
after IDNA normalisation, with an optional numeric port; nothing else (no ``\\``, ``@``,
``%``, brackets, spaces) is accepted. The URL that would be connected to is then parsed by
``urllib3`` (``requests``: the install/widget verification) and ``yarl`` (``aiohttp``: the
gateway), and both must name the very host and port that was compared with the list —
``localhost\\.bitrix24.ru`` once passed a looser parser here while ``requests`` connected to
``localhost``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from config.settings import Settings

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
_NETLOC = re.compile(r"^([^:]+)(?::([0-9]{1,5}))?$")
# the path of a full URL (webhook URLs, ``/rest/``): RFC 3986 pchars, nothing that re-parses
_PATH = re.compile(r"^[A-Za-z0-9._~!$&'()*+,;=:@/-]*$")


@dataclass(frozen=True)
class Target:
    """A parsed, normalised host to call: ``scheme`` is None for a bare ``host[:port]``."""

    scheme: str | None
    host: str
    port: int | None  # explicit or the scheme's default; None for a bare host without port


def _idna(host: str) -> str | None:
    """Lower-case ASCII form of ``host`` (IDNA/UTS-46), or None when it is not a hostname."""
    import idna

    host = host[:-1] if host.endswith(".") else host
    if not host:
        return None
    try:
        ascii_host = host.lower() if host.isascii() else idna.encode(host, uts46=True).decode()
    except (idna.IDNAError, UnicodeError, ValueError):
        return None
    ascii_host = ascii_host.lower()
    return ascii_host if _HOST.match(ascii_host) else None


def _libraries_agree(url: str, host: str, port: int | None) -> bool:
    """Do the connecting libraries read ``url`` as ``host:port``?"""
    import yarl
    from urllib3.util import parse_url

    try:
        parsed = parse_url(url)
        y = yarl.URL(url)
    except ValueError:
        return False
    y_port = y.explicit_port
    return (
        (parsed.host or "").lower() == host
        and (y.raw_host or "").lower() == host
        and parsed.port == port
        and y_port == port
    )


def parse_target(text: object) -> Target | None:
    """``host``, ``host:port`` or an http(s) URL → :class:`Target`; None when malformed."""
    if not isinstance(text, str):
        return None
    if not text or not text.isprintable() or " " in text:  # no stripping: refuse instead
        return None
    scheme: str | None = None
    rest = text
    if "://" in text:
        scheme, rest = text.split("://", 1)
        scheme = scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            return None
    netloc, slash, path = rest.partition("/")
    if slash and scheme is None:
        return None  # a bare host never carries a path
    if not _PATH.match(path):
        return None
    match = _NETLOC.match(netloc)
    if match is None:
        return None
    host = _idna(match.group(1))
    explicit = int(match.group(2)) if match.group(2) else None
    if host is None or (explicit is not None and not 0 < explicit < 65536):
        return None
    url = f"{scheme or 'https'}://{host}{f':{explicit}' if explicit else ''}/{path}"
    if not _libraries_agree(url, host, explicit):
        return None
    port = explicit if explicit is not None else _DEFAULT_PORTS.get(scheme or "")
    return Target(scheme, host, port)


def _is_emulator(host: str | None, port: int | None, settings: Settings) -> bool:
    if not settings.emulator_address or host is None:
        return False
    for address in settings.emulator_address.split(","):
        emu_host, _, emu_port = address.rpartition(":")
        if host == emu_host.lower() and port == int(emu_port):
            return True
    return False


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
    target = parse_target(domain)
    if target is None:
        return False
    scheme = target.scheme or scheme
    port = target.port if target.port is not None else _DEFAULT_PORTS.get(scheme or "")
    if _is_emulator(target.host, port, settings):
        return scheme in (None, "http", "https")
    if scheme not in (None, "https"):
        return False
    if target.port not in (None, 443):
        return False
    return _host_matches(target.host, settings.allowed_portal_domains)


def is_allowed_oauth_server(url: str | None, settings: Settings) -> bool:
    """True when ``url`` (e.g. ``https://oauth.bitrix.info/rest/``) is a trusted OAuth server."""
    target = parse_target(url)
    if target is None:
        return False
    if _is_emulator(target.host, target.port, settings):
        return target.scheme in ("http", "https")
    if target.scheme != "https" or target.port not in (None, 443):
        return False
    return _host_matches(target.host, settings.allowed_oauth_servers)


def portal_base_url(domain: str, settings: Settings) -> str:
    """``https://domain`` (or ``http://`` for the emulator address); raises if not allowed.

    The message names nothing but the fact: it may reach a client."""
    if not is_allowed_portal(domain, settings):
        raise PermissionError("portal domain not allowed")
    target = parse_target(domain)
    assert target is not None
    if _is_emulator(target.host, target.port, settings):
        return f"http://{target.host}:{target.port}"
    return f"https://{target.host}"
