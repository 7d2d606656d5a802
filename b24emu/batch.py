"""``batch``: up to 50 sub-calls, ``halt``, ``$result[key][path]`` substitution (§4.4).

Outer HTTP is always 200; each sub-call runs as an independent call (own scope check, own
``time``, own operating budget) and lands in ``result``/``result_error``/``result_total``/
``result_next``/``result_time``. Empty sections serialize as ``[]`` like PHP.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from b24emu.params import parse_query
from b24emu.registry import Call, method

MAX_COMMANDS = 50
_PLACEHOLDER = re.compile(r"\$(result|next|total|error)((?:\[[^\[\]]*\])+)")


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "y", "yes")


def _resolve(sections: dict[str, dict[str, Any]], kind: str, path: str) -> Any:
    keys = re.findall(r"\[([^\[\]]*)\]", path)
    node: Any = sections[kind]
    for key in keys:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            break  # the portal stops at the last resolvable level
    return node


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def substitute(value: Any, sections: dict[str, dict[str, Any]]) -> Any:
    """Replace placeholders: whole-value → raw value, embedded → string."""
    if isinstance(value, dict):
        return {k: substitute(v, sections) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, sections) for v in value]
    if not isinstance(value, str) or "$" not in value:
        return value
    whole = _PLACEHOLDER.fullmatch(value)
    if whole:
        return _resolve(sections, whole.group(1), whole.group(2))
    return _PLACEHOLDER.sub(lambda m: _as_text(_resolve(sections, m.group(1), m.group(2))), value)


def _commands(cmd: Any) -> list[tuple[str, Any]]:
    if isinstance(cmd, dict):
        return [(str(k), v) for k, v in cmd.items()]
    if isinstance(cmd, list):
        return [(str(i), v) for i, v in enumerate(cmd)]
    return []


def _section(items: dict[str, Any]) -> Any:
    """PHP json_encode: empty → [], keys 0..n-1 → list, else object."""
    if not items:
        return []
    keys = list(items)
    if keys == [str(i) for i in range(len(keys))]:
        return [items[k] for k in keys]
    return items


@method("batch", scope=None, batchable=False, cost=0.0)
def batch(call: Call) -> dict[str, Any]:
    from b24emu.server import execute_call

    halt = _truthy(call.param("halt", 0))
    sections: dict[str, dict[str, Any]] = {
        "result": {},
        "error": {},
        "total": {},
        "next": {},
        "time": {},
    }
    for count, (key, command) in enumerate(_commands(call.param("cmd"))):
        if count >= MAX_COMMANDS:
            sections["error"][key] = {
                "error": "ERROR_BATCH_LENGTH_EXCEEDED",
                "error_description": "Max batch length exceeded",
            }
            continue
        parts = urlsplit(str(command))
        name = parts.path.strip().strip("/").lower()
        if name.endswith(".json"):
            name = name[:-5]
        params = substitute(parse_query(parts.query), sections)
        params.pop("auth", None)
        if name == "batch":
            outcome_error = {
                "error": "ERROR_BATCH_METHOD_NOT_ALLOWED",
                "error_description": "Method is not allowed for batch usage",
            }
            sections["error"][key] = outcome_error
            if halt:
                break
            continue
        outcome = execute_call(call.portal, call.auth, name, params, in_batch=True)
        if outcome.error is not None:
            sections["error"][key] = outcome.error.body()
            if halt:
                break
            continue
        sections["result"][key] = outcome.result
        if outcome.total is not None:
            sections["total"][key] = outcome.total
        if outcome.next is not None:
            sections["next"][key] = outcome.next
        sections["time"][key] = outcome.time
    return {
        "result": _section(sections["result"]),
        "result_error": _section(sections["error"]),
        "result_total": _section(sections["total"]),
        "result_next": _section(sections["next"]),
        "result_time": _section(sections["time"]),
    }
