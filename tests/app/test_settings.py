"""Settings: defaults, parsing, one error listing every problem, secrets never shown."""

from __future__ import annotations

import dataclasses

import pytest

from config.settings import ENV_VARS, Settings, SettingsError


def test_defaults_without_environment():
    s = Settings.from_env({}, dotenv=False)
    assert s.app_base_url == "http://127.0.0.1:8000"
    assert s.database_url == "sqlite:///var/app.db"
    assert s.redis_url is None
    assert s.playbooks == ("metal",)
    assert "*.bitrix24.com" in s.allowed_portal_domains
    assert s.allowed_oauth_servers == ("oauth.bitrix.info", "oauth.bitrix24.tech")
    assert (s.rate_burst, s.rate_drain_per_s, s.operating_limit_s) == (50, 2.0, 480)
    assert not s.portal_configured


def test_values_are_parsed_and_frozen():
    s = Settings.from_env(
        {
            "PLAYBOOKS": "metal, kitchens",
            "LOG_JSON": "yes",
            "RATE_DRAIN_PER_S": "1.5",
            "ALLOWED_PORTAL_DOMAINS": "*.bitrix24.ru,crm.example.org",
            "EMULATOR_ADDRESS": "127.0.0.1:8900",
            "B24_WEBHOOK_URL": "https://x.bitrix24.com/rest/1/abc",
            "DATABASE_URL": "postgresql+psycopg://u@h/db",
        },
        dotenv=False,
    )
    assert s.playbooks == ("metal", "kitchens")
    assert s.log_json is True
    assert s.rate_drain_per_s == 1.5
    assert s.allowed_portal_domains == ("*.bitrix24.ru", "crm.example.org")
    assert s.b24_webhook_url == "https://x.bitrix24.com/rest/1/abc/"
    assert s.portal_configured
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.log_level = "DEBUG"


def test_one_error_lists_every_bad_value_without_echoing_secrets():
    env = {
        "APP_BASE_URL": "ftp://nope",
        "DATABASE_URL": "mysql://x",
        "RATE_BURST": "-3",
        "RATE_DRAIN_PER_S": "fast",
        "PLAYBOOKS": "metal,unknown",
        "LOG_LEVEL": "LOUD",
        "LOG_JSON": "maybe",
        "EMULATOR_ADDRESS": "no-port",
        "B24_WEBHOOK_URL": "https://x.bitrix24.com/not-a-hook/supersecretcode",
        "B24_CLIENT_ID": "local.abc.123",
    }
    with pytest.raises(SettingsError) as info:
        Settings.from_env(env, dotenv=False)
    err = info.value
    text = str(err)
    for name in (
        "APP_BASE_URL", "DATABASE_URL", "RATE_BURST", "RATE_DRAIN_PER_S", "PLAYBOOKS",
        "LOG_LEVEL", "LOG_JSON", "EMULATOR_ADDRESS", "B24_WEBHOOK_URL", "B24_CLIENT_SECRET",
    ):  # fmt: skip
        assert name in text, name
    assert len(err.problems) == 10
    assert "supersecretcode" not in text


def test_repr_never_shows_secrets():
    s = Settings.from_env(
        {
            "B24_CLIENT_ID": "local.abc.123",
            "B24_CLIENT_SECRET": "very-secret-value",
            "B24_WEBHOOK_URL": "https://x.bitrix24.com/rest/1/hookcode123/",
            "DATABASE_URL": "postgresql+psycopg://user:dbpassword@h/db",
            "REDIS_URL": "redis://:redispassword@h:6379/0",
        },
        dotenv=False,
    )
    for text in (repr(s), str(s), f"{s}"):
        for secret in ("very-secret-value", "hookcode123", "dbpassword", "redispassword"):
            assert secret not in text
    assert "local.abc.123" in repr(s)


def test_dotenv_fills_only_what_the_environment_lacks(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("LOG_LEVEL=DEBUG\nPLAYBOOKS=eshop\n")
    monkeypatch.chdir(tmp_path)
    s = Settings.from_env({"PLAYBOOKS": "b2b"})
    assert s.log_level == "DEBUG"
    assert s.playbooks == ("b2b",)
    assert Settings.from_env({}, dotenv=False).log_level == "INFO"


def test_every_env_var_is_documented_in_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [name for name in ENV_VARS if f"`{name}`" not in readme]
    assert missing == []


def test_var_dir_moves_the_sqlite_store():
    s = Settings.from_env({"VAR_DIR": "/tmp/second-instance"}, dotenv=False)
    assert s.database_url == "sqlite:////tmp/second-instance/app.db"
    given = Settings.from_env({"VAR_DIR": "/x", "DATABASE_URL": "sqlite:///y.db"}, dotenv=False)
    assert given.database_url == "sqlite:///y.db"


def test_dev_env_under_var_dir_fills_only_what_is_still_missing(tmp_path, monkeypatch):
    """``make run`` writes VAR_DIR/dev.env; the CLI finds the local portal without exports."""
    monkeypatch.chdir(tmp_path)
    var = tmp_path / "elsewhere"
    var.mkdir()
    (var / "dev.env").write_text(
        "EMULATOR_ADDRESS=127.0.0.1:8911\nB24_CLIENT_ID=local.x.1\nB24_CLIENT_SECRET=s\n"
        "LOG_LEVEL=ERROR\n"
    )
    (tmp_path / ".env").write_text("LOG_LEVEL=WARNING\n")
    s = Settings.from_env({"VAR_DIR": str(var)})
    assert s.emulator_address == "127.0.0.1:8911"
    assert (s.b24_client_id, s.b24_client_secret) == ("local.x.1", "s")
    assert s.log_level == "WARNING"  # ./.env and the environment win over dev.env
    assert s.database_url == f"sqlite:///{var / 'app.db'}"
    # devrun reads its own settings without it (else it would think a portal is configured)
    assert Settings.from_env({"VAR_DIR": str(var)}, dev_config=False).b24_client_id is None
    assert Settings.from_env({"VAR_DIR": str(var)}, dotenv=False).emulator_address is None
