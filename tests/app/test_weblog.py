"""Issue #20: the gunicorn access log printed tokens from query strings."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from gunicorn.config import Config

SECRET = "9d4c7166007e9c94001e30ba00000001f0f107e28b5a4310c7f6d9b3025ea814"


def _logger(tmp_path):
    from app.weblog import RedactingGunicornLogger

    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("errorlog", str(tmp_path / "error.log"))
    return RedactingGunicornLogger(cfg), tmp_path / "access.log"


def test_the_config_file_names_the_redacting_logger():
    namespace: dict = {}
    exec(open("gunicorn.conf.py").read(), namespace)  # noqa: S102 - our own config file
    assert namespace["logger_class"] == "app.weblog.RedactingGunicornLogger"


def test_tokens_in_query_strings_and_webhook_paths_are_masked(tmp_path):
    logger, path = _logger(tmp_path)
    for uri in (
        f"/widgets/lead_object?DOMAIN=a.bitrix24.ru&AUTH_ID={SECRET}&REFRESH_ID={SECRET}",
        f"/install?auth%5Baccess_token%5D={SECRET}&APP_SID=1",
        f"/rest/1/{SECRET}/profile",
    ):
        path_info, _, query = uri.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "RAW_URI": uri,
            "PATH_INFO": path_info,
            "QUERY_STRING": query,
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        resp = SimpleNamespace(status="200", response_length=10, headers=(), sent=10)
        req = SimpleNamespace(headers=())
        logger.access(resp, req, environ, datetime.timedelta(seconds=0.01))
    for handler in logger.access_log.handlers:
        handler.flush()
    text = path.read_text()
    assert text.count("GET ") == 3
    assert SECRET not in text
    assert "AUTH_ID=***" in text and "DOMAIN=a.bitrix24.ru" in text
