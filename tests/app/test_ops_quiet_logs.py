"""Logs stay quiet at INFO: no RQ housekeeping or per-job chatter, no progress bars off a
TTY, at most one line per lead processed — while failures stay visible."""

from __future__ import annotations

import io
import logging
import re
import sys

import pytest

from app.queues import enqueue
from app.worker import build_worker
from config.logging import configure_logging
from config.settings import Settings

JOB = "tests.support.flaky_jobs.needs_file"


@pytest.fixture
def captured(monkeypatch):
    """configure_logging(level) with its handler writing to a buffer; restores the root."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    buf = io.StringIO()

    def configure(level="INFO"):
        monkeypatch.setattr(sys, "stderr", buf)
        configure_logging(Settings(log_level=level))
        monkeypatch.undo()
        return buf

    yield configure
    root.setLevel(saved[0])
    for handler in list(root.handlers):
        if handler not in saved[1]:
            root.removeHandler(handler)


def _work(services, tmp_path, n_ok=5):
    (tmp_path / "ok").write_text("ok")
    for _ in range(n_ok):
        enqueue(services, "events", JOB, "a" * 32, str(tmp_path / "ok"))
    enqueue(services, "events", JOB, "b" * 32, str(tmp_path / "missing"))
    worker = build_worker(services, ["events"], name="quiet-probe")
    worker.work(burst=True)
    worker.clean_registries()  # what maintenance does every interval
    for queue in worker.queues:
        worker.log.info("Worker %s: cleaning registries for queue: %s", worker.name, queue.name)


def test_info_has_no_rq_chatter_but_keeps_failures(services, tmp_path, captured):
    buf = captured("INFO")
    _work(services, tmp_path)
    lines = buf.getvalue().splitlines()
    rq_info = [ln for ln in lines if " INFO rq." in ln]
    assert not any("cleaning" in ln or "Job OK" in ln or "result is kept" in ln for ln in lines)
    assert not any("Successfully completed" in ln for ln in lines)
    # what is left of RQ at INFO is start/stop, not one line per job (6 jobs ran)
    assert len(rq_info) <= 4, rq_info
    # the failure stays visible: RQ's ERROR line and the exception under it
    assert any(" ERROR rq.worker " in ln and "exception raised" in ln for ln in lines)
    assert "RuntimeError: missing is missing for " + "b" * 32 in buf.getvalue()


def test_debug_still_has_them(services, tmp_path, captured):
    buf = captured("DEBUG")
    _work(services, tmp_path, n_ok=1)
    text = buf.getvalue()
    assert " DEBUG rq.worker " in text and "cleaning registries" in text and "Job OK" in text


def test_progress_bars_only_on_a_tty(emulator, make_services):
    from app.store import installations
    from app.web import create_app

    services = make_services(emulator_address=emulator.domain)
    with services.session() as s:
        installations.upsert_verified(
            s,
            "m-quiet",
            domain=emulator.domain,
            auth_mode="webhook",
            webhook_url=emulator.webhook_url(),
            status="active",
        )
        s.commit()
    emulator.portal.crm.bulk_seed(1, [{"title": f"l{n}"} for n in range(60)])
    result = (
        create_app(services=services)
        .test_cli_runner()
        .invoke(args=["b24", "sync", "--portal", "m-quiet", "--entity", "lead"])
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and "\r" not in result.output  # no tqdm bar off a TTY
    assert "lead: 60 records" in result.stdout


@pytest.mark.e2e
def test_at_most_one_line_per_lead_processed(tmp_path, redis_url, captured):
    from tests.e2e._metal_world import metal_world

    world_gen = metal_world(tmp_path, redis_url)
    w = next(world_gen)
    try:
        buf = captured("INFO")
        start = len(buf.getvalue())
        leads = [
            w.lead_from("webform", title=f"Склад {n}", phone=f"+7900000{n:04d}") for n in range(4)
        ]
        w.settle()
        # the access log is the web server's (gunicorn's is off unless asked for); the test
        # starts a burst worker per round, so its start/stop lines are the harness's
        harness = re.compile(
            r" INFO werkzeug | INFO rq\.\w+ .*(started with PID|Listening on|"
            r"done, quitting|unsubscribing|subscribing|Scheduler)"
        )
        processed = [ln for ln in buf.getvalue()[start:].splitlines() if not harness.search(ln)]
        assert all(w.item(1, lead_id) for lead_id in leads)  # they were processed
        assert len(processed) <= len(leads), processed
    finally:
        world_gen.close()
