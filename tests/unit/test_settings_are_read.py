"""Every setting a playbook declares is read by some code that serves that playbook.

A setting nobody reads promises the admin a knob that does nothing (issue #24). "Read" means
the key appears as a string literal in a module under ``app/`` other than the playbook's own
data module (``app/playbooks/<name>/__init__.py``), ``app/playbooks/common.py`` (where shared
settings are declared), and the other playbooks' packages (kitchens reading its own
``stage_checklists`` does not make b2b's read).
"""

from __future__ import annotations

import re
from pathlib import Path

from app.playbooks import NAMES, load

APP = Path(__file__).resolve().parents[2] / "app"

# (playbook, key) → why it may stay declared without a reader, for now.
# (playbook, key) → why it may stay unread for now; empty: every declared setting is read.
ALLOWED_UNREAD: dict[tuple[str, str], str] = {}


def _readers(playbook: str, key: str) -> list[Path]:
    literal = re.compile("[\"']" + re.escape(key) + "[\"']")
    out = []
    for path in APP.rglob("*.py"):
        parts = path.relative_to(APP).parts
        if parts[0] == "playbooks" and len(parts) > 2 and parts[1] in NAMES:
            if parts[1] != playbook or parts[2] == "__init__.py":
                continue
        elif parts == ("playbooks", "common.py"):
            continue
        if literal.search(path.read_text(encoding="utf-8")):
            out.append(path)
    return out


def unread_settings() -> set[tuple[str, str]]:
    return {
        (name, spec.key)
        for name in NAMES
        for spec in load(name).settings
        if not _readers(name, spec.key)
    }


def test_no_declared_setting_is_left_unread():
    unread = unread_settings() - set(ALLOWED_UNREAD)
    assert not unread, f"declared but never read: {sorted(unread)}"


def test_the_allow_list_names_only_settings_that_are_still_unread():
    stale = set(ALLOWED_UNREAD) - unread_settings()
    assert not stale, f"read now, drop from ALLOWED_UNREAD: {sorted(stale)}"


def test_the_check_finds_a_setting_nobody_reads():
    assert not _readers("b2b", "a_setting_no_code_mentions")
    # kitchens reads its own stage_checklists; that alone would not count for b2b
    assert all("kitchens" not in p.parts for p in _readers("b2b", "stage_checklists"))
