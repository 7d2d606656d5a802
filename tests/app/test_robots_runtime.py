"""The runtime's promises with a scripted portal: every call answered once, retryable
failures retried only while the portal still waits, answers stored before they are sent."""

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from app.portal.errors import AccessDenied, RateLimited
from app.robots import catalog, runtime
from app.robots.call import RobotCall
from app.robots.contract import RobotInputError, RobotResult
from app.robots.spec import PropertySpec, RobotSpec
from app.rules.actions import UpdateFields
from app.rules.naming import PlainNaming
from app.store import robot_runs
from app.store.base import Base
from tests.shared_docs import SHARED_PAYLOADS

PAYLOADS = SHARED_PAYLOADS
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
M = "member-rt"


class Portal:
    """The gateway's interface, scripted: ``fail[method]`` = exceptions raised in order."""

    def __init__(self):
        self.calls, self.batches, self.fail = [], [], {}
        self.lead = {"id": 5, "title": "Old", "assignedById": 1}

    def _maybe_fail(self, method):
        queue = self.fail.get(method) or []
        if queue:
            raise queue.pop(0)

    def call(self, method, params=None, priority="events"):
        self._maybe_fail(method)
        self.calls.append((method, params, priority))
        return True

    def batch(self, cmd, halt=False):
        self._maybe_fail("batch")
        self.batches.append(cmd)
        results, errors = {}, {}
        for label, (method, params) in cmd.items():
            if method == "crm.item.get":
                results[label] = {"item": dict(self.lead)}
            elif params.get("fields", {}).get("title") == "refuse me":
                errors[label] = {"error": "ERROR_ARGUMENT", "error_description": "bad title"}
            else:
                self.lead.update(params.get("fields", {}))
                results[label] = {"item": dict(self.lead)}
        return {"result": results, "result_error": errors}

    def sends(self):
        return [c for c in self.calls if c[0] == "bizproc.event.send"]


def _robot(code, run):
    spec = RobotSpec(
        code=code,
        names={"ru": code, "en": code},
        properties=(PropertySpec("title", {"ru": "Название", "en": "Title"}, "string"),),
        returns=(
            PropertySpec("title", {"ru": "Название", "en": "Title"}, "string"),
            PropertySpec("error", {"ru": "Ошибка", "en": "Error"}, "string"),
        ),
        writes=("title",),
    )
    return SimpleNamespace(SPEC=spec, run=run)


def _retitle(inp):
    if inp.props["title"] == "bad":
        raise RobotInputError("плохое название (bad title)")
    fields = {"title": inp.props["title"]}
    return RobotResult({"title": inp.props["title"]}, (UpdateFields("lead", 5, fields),), "ok")


def _boom(inp):
    raise RuntimeError("bug")


@pytest.fixture(autouse=True)
def robots():
    catalog.register(_robot("t_retitle", _retitle))
    catalog.register(_robot("t_boom", _boom))
    yield
    catalog.unregister("t_retitle")
    catalog.unregister("t_boom")


@pytest.fixture
def ctx():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    return SimpleNamespace(
        member_id=M,
        session_factory=sessionmaker(engine),
        client=Portal(),
        naming=PlainNaming(),
        settings={},
        playbooks=(),
        now=lambda: NOW,
    )


def _call(code="t_retitle", title="New", token="wf.1|A1|tok.sig", ts=NOW, timeout=600, wait=True):
    return RobotCall(
        member_id=M,
        code=code,
        event_token=token,
        document_id=("crm", "CCrmDocumentLead", "LEAD_5"),
        properties={"title": title},
        wait_answer=wait,
        timeout_s=timeout,
        ts=int(ts.timestamp()),
    )


def _row(ctx):
    with ctx.session_factory() as s:
        return s.scalar(select(robot_runs.RobotRun).where(robot_runs.RobotRun.member_id == M))


def test_success_answers_once_and_a_replay_does_nothing(ctx):
    out = runtime.execute(ctx, _call(), retry_in=5)
    assert (out.state, out.return_values) == ("answered", {"title": "New", "error": ""})
    (send,) = ctx.client.sends()
    assert send[1]["return_values"] == {"title": "New", "error": ""} and send[2] == "robots"
    documented = json.loads((PAYLOADS / "bizproc_event_send_request.json").read_text())
    assert set(send[1]) == set(documented) - {"auth"}  # the gateway adds the auth
    assert ctx.client.lead["title"] == "New"
    writes = len(ctx.client.batches)
    again = runtime.execute(ctx, _call(), retry_in=5)
    assert again.replay and len(ctx.client.sends()) == 1 and len(ctx.client.batches) == writes
    row = _row(ctx)
    assert row.attempts == 2 and row.token_digest != "wf.1|A1|tok.sig"  # only the digest


def test_bad_input_is_an_error_answer_without_writes(ctx):
    out = runtime.execute(ctx, _call(title="bad"))
    assert out.state == "answered" and "плохое название" in out.error
    (send,) = ctx.client.sends()
    assert send[1]["return_values"]["error"].startswith("плохое название")
    assert send[1]["log_message"].startswith("Ошибка: плохое название")
    assert ctx.client.lead["title"] == "Old"


def test_a_robot_bug_is_answered_not_left_to_time_out(ctx):
    out = runtime.execute(ctx, _call(code="t_boom"))
    assert out.state == "answered"
    assert "RuntimeError" in ctx.client.sends()[0][1]["log_message"]


def test_rate_limited_load_is_retried_while_the_portal_still_waits(ctx):
    ctx.client.fail["batch"] = [RateLimited("QUERY_LIMIT_EXCEEDED", "slow down")]
    with pytest.raises(RateLimited):
        runtime.execute(ctx, _call(), retry_in=5)
    assert ctx.client.sends() == [] and _row(ctx).state == "received"
    out = runtime.execute(ctx, _call(), retry_in=30)  # RQ's retry: works now
    assert out.state == "answered" and ctx.client.lead["title"] == "New"


@pytest.mark.parametrize(
    ("retry_in", "posted_seconds_ago"),
    [(None, 0), (120, 550)],  # no retry left / the retry would come after the 600 s timeout
)
def test_retryable_failure_is_answered_when_no_retry_can_be_in_time(
    ctx, retry_in, posted_seconds_ago
):
    ctx.client.fail["batch"] = [RateLimited("QUERY_LIMIT_EXCEEDED", "slow down")]
    ts = datetime.fromtimestamp(NOW.timestamp() - posted_seconds_ago, UTC)
    out = runtime.execute(ctx, _call(ts=ts), retry_in=retry_in)
    assert out.state == "answered" and "QUERY_LIMIT_EXCEEDED" in out.error
    assert "портал ответил ошибкой" in ctx.client.sends()[0][1]["log_message"]


def test_failed_send_is_retried_with_the_stored_answer_and_no_new_work(ctx):
    ctx.client.fail["bizproc.event.send"] = [RateLimited("QUERY_LIMIT_EXCEEDED", "x")]
    with pytest.raises(RateLimited):
        runtime.execute(ctx, _call(title="First"), retry_in=5)
    assert _row(ctx).state == "decided" and ctx.client.lead["title"] == "First"
    writes = len(ctx.client.batches)
    out = runtime.execute(ctx, _call(title="First"), retry_in=5)
    assert out.state == "answered" and len(ctx.client.batches) == writes
    assert ctx.client.sends()[0][1]["return_values"]["title"] == "First"


def test_refused_answer_marks_the_run_failed_without_raising(ctx):
    ctx.client.fail["bizproc.event.send"] = [AccessDenied("ACCESS_DENIED", "Access denied!")]
    out = runtime.execute(ctx, _call(), retry_in=5)
    assert out.state == "failed" and "ACCESS_DENIED" in _row(ctx).error


def test_refused_write_is_answered_as_an_error(ctx):
    out = runtime.execute(ctx, _call(title="refuse me"))
    assert "портал не принял изменения" in out.error and "ERROR_ARGUMENT" in out.error


def test_no_wait_call_does_the_work_and_sends_nothing(ctx):
    out = runtime.execute(ctx, _call(wait=False))
    assert out.state == "answered" and ctx.client.sends() == []
    assert ctx.client.lead["title"] == "New"
