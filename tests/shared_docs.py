"""Where the project's shared reference material lives, for tests that replay payloads.

CI and every developer checkout have ``shared/`` beside the repository (``../shared``);
``B24_SHARED_DIR`` overrides it. A missing directory fails loudly rather than skipping
the payload tests.
"""

from __future__ import annotations

import os
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]


def _shared_dir() -> Path:
    candidates = [Path(os.environ["B24_SHARED_DIR"])] if os.environ.get("B24_SHARED_DIR") else []
    candidates.append(_REPO.parent / "shared")
    for path in candidates:
        if (path / "docs" / "payloads").is_dir():
            return path
    raise RuntimeError(f"shared/ reference material not found; looked in {candidates}")


SHARED = _shared_dir()
SHARED_PAYLOADS = SHARED / "docs" / "payloads"
