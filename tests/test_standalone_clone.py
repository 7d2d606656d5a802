"""A bare clone of the repository collects and runs the suite with nothing beside it.

A stranger's first step is ``git clone … && make test``; anything the tests read from
outside the repository (a sibling ``../shared``, an exported variable) breaks that step.
This clones the committed HEAD into an empty temporary folder, collects the whole suite
there and runs a sample that replays payload fixtures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Tests that read payload fixtures: the ones a missing fixture folder breaks first.
SAMPLE = [
    "tests/unit/test_payload_fixtures.py",
    "tests/emu/test_crm_naming.py",
    "tests/app/test_robots_parsing.py",
    "tests/app/test_events_handler.py",
]
_NESTED = "B24_STANDALONE_CLONE_RUN"


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

    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TEST_REDIS_URL"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update({_NESTED: "1", "PYTHONDONTWRITEBYTECODE": "1"})
    pytest_cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]

    collected = subprocess.run(
        [*pytest_cmd, "--collect-only"], cwd=clone, env=env, capture_output=True, text=True
    )
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-2000:]
    assert "error" not in collected.stdout.lower().splitlines()[-1]

    ran = subprocess.run(
        [*pytest_cmd, "-x", *SAMPLE], cwd=clone, env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    assert " passed" in ran.stdout
