"""A bare clone of the repository collects and runs the suite with nothing beside it.

A stranger's first step is ``git clone … && make test``; anything the tests read from
outside the repository (a sibling ``../shared``, an exported variable) breaks that step.
This clones the committed HEAD into an empty temporary folder, collects the whole suite
there (a collection error fails the run) and runs a sample that replays payload fixtures:
one pytest process, so the check stays well under a minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Test files that read payload fixtures: the ones a missing fixture folder breaks first.
SAMPLE = (
    "tests/unit/test_payload_fixtures.py",
    "tests/emu/test_crm_naming.py",
    "tests/app/test_robots_parsing.py",
    "tests/app/test_events_handler.py",
)
_NESTED = "B24_STANDALONE_CLONE_RUN"

# Loaded with -p from outside the clone: keeps only the sample after the whole suite is
# collected, so every module is imported once and only a few tests run.
_PLUGIN = f"""
SAMPLE = {SAMPLE!r}

def pytest_collection_modifyitems(config, items):
    keep = [i for i in items if i.nodeid.split("::")[0] in SAMPLE]
    config.hook.pytest_deselected(items=[i for i in items if i not in keep])
    items[:] = keep
"""


def _head() -> str | None:
    if shutil.which("git") is None:
        return None
    out = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    return out.stdout.strip() if out.returncode == 0 else None


@pytest.mark.skipif(os.environ.get(_NESTED) == "1", reason="already inside a clone run")
def test_bare_clone_collects_and_runs_a_sample(tmp_path):
    head = _head()
    if head is None:
        pytest.skip("not a git checkout")
    clone = tmp_path / "alone" / "repo"
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(REPO), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", head], check=True)
    assert sorted(os.listdir(tmp_path / "alone")) == ["repo"]
    plugin_dir = tmp_path / "plugin"
    plugin_dir.mkdir()
    (plugin_dir / "sample_only.py").write_text(_PLUGIN, encoding="utf-8")

    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TEST_REDIS_URL"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update({_NESTED: "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(plugin_dir)})
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "sample_only"]
        + ["-o", "addopts=", "-q", "-x"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
    )
    out = ran.stdout + ran.stderr
    assert ran.returncode == 0, out[-4000:]
    summary = ran.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "error" not in summary, summary
    assert "deselected" in summary, summary  # the whole suite was collected
