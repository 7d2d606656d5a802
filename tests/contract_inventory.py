"""The app's portal contract, read from the code (for ``tests/unit/test_portal_contract.py``).

Three inventories, each generated rather than typed:

* :func:`rest_methods` — every Bitrix24 REST method named in ``app/`` (string constants
  shaped like a method name, ``f"crm.{entity}.userfield.add"`` style f-strings, and
  ``…/rest/<method>`` URLs), found with :mod:`ast`. Placeholders become ``*``.
* :func:`bound_events` — every event the installer binds for any playbook
  (``app.installers.plan_app.wanted_bindings``), plus ``ONAPPINSTALL`` (sent to the
  install-event URL, not bound).
* :func:`inbound_routes` — every POST route of the Flask app (portal payloads and the
  app's own iframe/form APIs alike; the contract document says which is which).

``docs/portal-contract.md`` rows are keyed by their first cell in backticks; see
:func:`document_keys`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"
CONTRACT = ROOT / "docs" / "portal-contract.md"

# REST namespaces the app could call; anything else with dots is a Python path or a label.
_NAMESPACES = (
    "crm|tasks|task|im|imopenlines|imconnector|imbot|bizproc|event|placement|user|department"
    "|userfieldconfig|userfieldtype|app|profile|batch|scope|methods|feature|server"
    "|messageservice|mailservice|disk|calendar|telephony|entity|lists|sale|catalog"
    "|sonet_group|voximplant|timeman"
)
_METHOD = re.compile(rf"^(?:{_NAMESPACES})(?:\.[A-Za-z_*]+)+$")
_SINGLE = {"profile", "batch", "scope", "methods"}  # one-word methods
_CALLERS = {"call", "call_list_page", "iter_list", "_call", "_all_pages", "_send"}
# Python module paths under app/ share the "app." prefix with app.info/app.option.*.
_NOT_REST = re.compile(r"^app\.(?!info$|option\.)")
# Dotted strings in method-looking shape that are not REST methods (name → why).
NOT_METHODS = {
    "task.bound": "app/sync/tasks.py: a Redis marker name, not a REST call",
}


def _fstring_shape(node: ast.JoinedStr) -> str:
    return "".join(v.value if isinstance(v, ast.Constant) else "*" for v in node.values)


def _candidates(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield False, node.value, node.lineno
        elif isinstance(node, ast.JoinedStr):
            shape = _fstring_shape(node)
            if "/rest/" in shape:  # f"{base}/rest/app.info"
                yield False, shape.rsplit("/rest/", 1)[1], node.lineno
            else:
                yield False, shape, node.lineno
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[1] if name == "_call" and len(node.args) > 1 else node.args[0]
            if name in _CALLERS and isinstance(first, ast.Constant):
                if first.value in _SINGLE:
                    yield True, str(first.value), node.lineno


def rest_methods() -> dict[str, set[str]]:
    """``{method or pattern: {"app/x.py:12", ...}}`` for every REST method in ``app/``."""
    out: dict[str, set[str]] = {}
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(ROOT).as_posix()
        for single, text, line in _candidates(tree):
            if single:
                name = text
            elif "." in text and _METHOD.match(text) and not _NOT_REST.match(text):
                name = text
            else:
                continue
            if name in NOT_METHODS:
                continue
            out.setdefault(name, set()).add(f"{rel}:{line}")
    return out


def bound_events() -> set[str]:
    """Every event name any playbook's installation binds, plus the install event."""
    from app.installers.desired import build
    from app.installers.plan_app import wanted_bindings
    from app.playbooks import NAMES

    names = {"ONAPPINSTALL"}
    for playbook in NAMES:
        desired = build((playbook,))
        names |= {name for name, _, _ in wanted_bindings(desired, "https://app.example")}
    return names


def inbound_routes() -> set[str]:
    """``"POST /robots/<code>"`` for every POST route the Flask app serves."""
    from flask import Flask

    from app.web import discover_blueprints

    app = Flask("inventory")
    for bp in discover_blueprints():
        app.register_blueprint(bp)
    return {
        f"POST {rule.rule}"
        for rule in app.url_map.iter_rules()
        if "POST" in (rule.methods or set())
    }


_ROW = re.compile(r"^\|\s*`([^`]+)`")


def document_keys(section: str) -> set[str]:
    """First-cell keys (in backticks) of the table rows under ``## <section>`` in the
    contract document. ``<entity>``-style placeholders become ``*``."""
    text = CONTRACT.read_text(encoding="utf-8")
    keys: set[str] = set()
    inside = False
    for line in text.splitlines():
        if line.startswith("## "):
            inside = line[3:].strip().lower().startswith(section.lower())
            continue
        match = _ROW.match(line) if inside else None
        if match:
            keys.add(re.sub(r"<[^>]+>", "*", match.group(1)))
    return keys
