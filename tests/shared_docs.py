"""Where the payload fixtures the tests replay live: inside the repository.

``tests/fixtures/payloads/`` holds copies of the protocol digest's wire examples, each
listed in that folder's README with the digest section and the official doc path it came
from. Nothing here looks outside the repository, so a bare clone runs the suite.
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_PAYLOADS = FIXTURES / "payloads"
