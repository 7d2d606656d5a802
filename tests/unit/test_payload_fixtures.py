"""The payload fixtures stand alone and each one says where it came from."""

from __future__ import annotations

import re

from tests.shared_docs import SHARED_PAYLOADS


def test_payloads_live_inside_the_repository():
    repo = SHARED_PAYLOADS.parents[2]
    assert SHARED_PAYLOADS.is_dir()
    assert SHARED_PAYLOADS.resolve().is_relative_to(repo.resolve())


def test_every_payload_names_its_source():
    """Every file has a README row naming a digest section and an official doc path."""
    readme = (SHARED_PAYLOADS / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([^`]+)` \| (§[^|]+\|[^|]+)\|$", readme, re.M))
    files = {p.name for p in SHARED_PAYLOADS.iterdir() if p.name != "README.md"}
    assert files, "no payload fixtures"
    assert files - rows.keys() == set(), "payload files without a README row"
    assert rows.keys() - files == set(), "README rows without a file"
    for name, source in rows.items():
        assert ".md" in source, f"{name}: no doc path"
