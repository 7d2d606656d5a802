"""``docs/portal-contract.md`` and the code agree: every REST method the app calls, every
event it binds and every POST route it serves has a row, and no row names something the
code no longer uses. The inventories are read from the code (``tests/contract_inventory``).
"""

from __future__ import annotations

import re

import pytest

from tests import contract_inventory as inv


def _diff(code: set[str], doc: set[str]) -> str:
    missing = sorted(code - doc)
    stale = sorted(doc - code)
    return f"missing rows: {missing}; rows for nothing in the code: {stale}"


def test_every_rest_method_has_a_row_and_every_row_a_call_site():
    code = set(inv.rest_methods())
    doc = inv.document_keys("REST methods")
    assert code == doc, _diff(code, doc)


def test_every_bound_event_has_a_row():
    code = inv.bound_events()
    doc = inv.document_keys("Events")
    assert code == doc, _diff(code, doc)


def test_every_post_route_has_a_row():
    code = {re.sub(r"<[^>]+>", "*", r) for r in inv.inbound_routes()}
    doc = inv.document_keys("POST routes")
    assert code == doc, _diff(code, doc)


def test_every_rest_row_names_its_doc_path_and_a_verdict():
    """A row without the b24restdocs path it was checked against is not a checked row."""
    text = inv.CONTRACT.read_text(encoding="utf-8")
    section = text.split("## REST methods", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows
    for row in rows:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]
        assert len(cells) == 5, row
        assert "api-reference/" in cells[2] or "settings/" in cells[2], row
        assert re.match(r"^(matches|fixed|doc silent)", cells[3]), row


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('client.call("crm.item.get", {})', {"crm.item.get"}),
        ('x = f"crm.{entity}.userfield.add"', {"crm.*.userfield.add"}),
        ('requests.post(f"{base}/rest/app.info")', {"app.info"}),
        ('_call(client, "profile")', {"profile"}),
        ('importlib.import_module(f"app.jobs.{name}")', set()),
        ('enqueue("app.jobs.install.install_portal")', set()),
        ('lines.append(f"! conflict {c}")', set()),
    ],
)
def test_the_scanner_finds_methods_and_only_methods(tmp_path, monkeypatch, source, expected):
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "m.py").write_text(source + "\n", encoding="utf-8")
    monkeypatch.setattr(inv, "APP", pkg)
    monkeypatch.setattr(inv, "ROOT", tmp_path)
    assert set(inv.rest_methods()) == expected
