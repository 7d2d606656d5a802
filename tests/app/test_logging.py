"""Realistic payloads logged through our handler never show a secret."""

from __future__ import annotations

import io
import json
import logging

import pytest

from config.logging import log_context, make_handler

# from docs/payloads (event_ONAPPINSTALL.form-urlencoded.txt, frame_open_DEFAULT.http.txt)
ONAPPINSTALL_RAW = (
    "event=ONAPPINSTALL&event_handler_id=1&data%5BVERSION%5D=1&data%5BACTIVE%5D=Y&data%5BINST"
    "ALLED%5D=Y&data%5BLANGUAGE_ID%5D=en&ts=1716494651&auth%5Baccess_token%5D=4baf4f66006e135"
    "40058f18a000000100000009b41bce7ec85f07c3646c07e6d629e7c&auth%5Bexpires%5D=1716498251&aut"
    "h%5Bexpires_in%5D=3600&auth%5Bscope%5D=crm%2Cbizproc%2Cplacement%2Cuser_brief&auth%5Bdom"
    "ain%5D=example.bitrix24.com&auth%5Bserver_endpoint%5D=https%3A%2F%2Foauth.bitrix.info%2F"
    "rest%2F&auth%5Bstatus%5D=L&auth%5Bclient_endpoint%5D=https%3A%2F%2Fexample.bitrix24.com%"
    "2Frest%2F&auth%5Bmember_id%5D=a223c6b3710f85df22e9377d6c4f7553&auth%5Buser_id%5D=1&auth%"
    "5Brefresh_token%5D=3b2e7766006e13540058f18a000000100000003b31a96730e79dc7561c1d7d0b33933"
    "f&auth%5Bapplication_token%5D=51856fefc120afa4b628cc82d3935cce"
)
FRAME_BODY = (
    "AUTH_ID=9d4c7166007e9c94001e30ba00000001f0f107e28b5a4310c7f6d9b3025ea814&AUTH_EXPIRES=36"
    "00&REFRESH_ID=8c3b9966007e9c94001e30ba00000001f0f107f19c6b3e04d182ac5b73f9052d&SERVER_EN"
    "DPOINT=https%3A%2F%2Foauth.bitrix.info%2Frest%2F&APPLICATION_TOKEN=51856fefc120afa4b628c"
    "c82d3935cce&APPLICATION_SCOPE=crm%2Cplacement%2Cbizproc%2Cuser_brief&member_id=a223c6b37"
    "10f85df22e9377d6c4f7553&status=L&PLACEMENT=DEFAULT"
)
SECRETS = [
    "4baf4f66006e13540058f18a000000100000009b41bce7ec85f07c3646c07e6d629e7c",
    "3b2e7766006e13540058f18a000000100000003b31a96730e79dc7561c1d7d0b33933f",
    "51856fefc120afa4b628cc82d3935cce",
    "9d4c7166007e9c94001e30ba00000001f0f107e28b5a4310c7f6d9b3025ea814",
    "8c3b9966007e9c94001e30ba00000001f0f107f19c6b3e04d182ac5b73f9052d",
    "8g9l071eismy9q2l",
]


@pytest.fixture(params=[False, True], ids=["text", "json"])
def captured(request):
    stream = io.StringIO()
    logger = logging.getLogger("test.redaction")
    handler = make_handler(request.param, stream)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def assert_clean(output: str) -> None:
    for secret in SECRETS:
        assert secret not in output, secret


def test_form_bodies_raw_and_decoded(captured):
    logger, stream = captured
    from urllib.parse import parse_qsl

    from app.handlers.forms import parse_bracket_form

    logger.info("event body: %s", ONAPPINSTALL_RAW)
    logger.info("decoded: %s", parse_bracket_form(parse_qsl(ONAPPINSTALL_RAW)))
    logger.info("decoded json: %s", json.dumps(parse_bracket_form(parse_qsl(ONAPPINSTALL_RAW))))
    logger.info("frame: %s", FRAME_BODY)
    logger.info("frame decoded: %s", dict(parse_qsl(FRAME_BODY)))
    flat = {
        "auth[access_token]": SECRETS[0],
        "auth[refresh_token]": SECRETS[1],
        "auth[application_token]": SECRETS[2],
    }
    logger.warning("flat form %r", flat)
    out = stream.getvalue()
    assert_clean(out)
    assert "ONAPPINSTALL" in out and "a223c6b3710f85df22e9377d6c4f7553" in out  # not over-redacted


def test_webhook_urls_and_json_auth_bodies(captured):
    logger, stream = captured
    logger.info("POST https://example.bitrix24.com/rest/1/8g9l071eismy9q2l/crm.deal.add.json")
    logger.info("body %s", json.dumps({"auth": SECRETS[0], "cmd": {"a": "crm.lead.get?id=1"}}))
    logger.info("frame AUTH_ID=%s&REFRESH_ID=%s", SECRETS[3], SECRETS[4])
    out = stream.getvalue()
    assert_clean(out)
    assert "/rest/1/***/crm.deal.add.json" in out


def test_exception_texts_are_redacted(captured):
    logger, stream = captured
    try:
        raise RuntimeError(
            "ClientResponseError for https://x.bitrix24.com/rest/7/8g9l071eismy9q2l/profile"
            f" refresh_token={SECRETS[1]}"
        )
    except RuntimeError:
        logger.exception("call failed for access_token=%s", SECRETS[0])
    out = stream.getvalue()
    assert "RuntimeError" in out
    assert_clean(out)


def test_member_id_context_is_attached(captured):
    logger, stream = captured
    with log_context("a223c6b3710f85df22e9377d6c4f7553"):
        logger.info("inside")
    logger.info("outside")
    lines = stream.getvalue().strip().splitlines()
    assert "a223c6b3710f85df22e9377d6c4f7553" in lines[0]
    assert "a223c6b3710f85df22e9377d6c4f7553" not in lines[1]


def test_robot_event_tokens_are_redacted(captured):
    """fast-bitrix24 logs call parameters at INFO; a bizproc.event.send carries the
    robot's event_token, which lets anyone close that robot run."""
    logger, stream = captured
    token = "664fa13bbbb410.99176768|A40364_79843_85254_57332|MS1ekdI0CvXi8ycL8qNIn96hak8JEndG"
    logger.info("call bizproc.event.send %s", {"event_token": token, "return_values": {"area": 12}})
    logger.info("form event_token=%s&code=calc_area", token)
    out = stream.getvalue()
    assert "MS1ekdI0CvXi8ycL8qNIn96hak8JEndG" not in out and "A40364_79843" not in out
    assert "return_values" in out and "calc_area" in out
