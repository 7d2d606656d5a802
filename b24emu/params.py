"""PHP-style parameter handling: ``parse_str`` bracket decoding and ``http_build_query`` encoding.

The portal decodes ``fields[PHONE][0][VALUE]=1&select[]=ID`` into nested arrays, and sends
events/robot POSTs encoded the same way. Dicts whose keys are exactly ``0..n-1`` (in order)
become lists, the way PHP arrays serialize to JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode


def _split_key(key: str) -> list[str] | None:
    """``a[b][]`` → ``["a", "b", ""]``; ``None`` for an empty name."""
    start = key.find("[")
    if start <= 0:
        return [key] if key else None
    parts = [key[:start]]
    rest = key[start:]
    while rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            # PHP keeps an unbalanced bracket as part of the last name.
            parts[-1] = parts[-1] + rest
            return parts
        parts.append(rest[1:end])
        rest = rest[end + 1 :]
    return parts


def _insert(target: dict[str, Any], parts: list[str], value: Any) -> None:
    node = target
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "":
            part = str(_next_index(node))
        if last:
            node[part] = value
            return
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child


def _next_index(node: dict[str, Any]) -> int:
    ints = [int(k) for k in node if k.lstrip("-").isdigit()]
    return max(ints) + 1 if ints else 0


def listify(value: Any) -> Any:
    """Turn dicts with keys ``"0".."n-1"`` into lists, recursively (PHP → JSON shape)."""
    if isinstance(value, dict):
        converted = {k: listify(v) for k, v in value.items()}
        keys = list(converted)
        if keys and keys == [str(i) for i in range(len(keys))]:
            return [converted[k] for k in keys]
        return converted
    if isinstance(value, list):
        return [listify(v) for v in value]
    return value


def parse_pairs(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Decode ``(key, value)`` pairs with PHP bracket keys into nested dicts/lists."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = _split_key(key)
        if parts:
            _insert(out, parts, value)
    result = listify(out)
    return result if isinstance(result, dict) else {}


def parse_query(query: str) -> dict[str, Any]:
    """PHP ``parse_str``: ``"a[b]=1&c[]=2"`` → ``{"a": {"b": "1"}, "c": ["2"]}``."""
    return parse_pairs(parse_qsl(query, keep_blank_values=True))


def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    if value is True:
        return "1"
    if value is False:
        return "0"
    return str(value)


def flatten(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """PHP ``http_build_query`` pairs: nested data → ``[("a[b][0]", "x"), ...]``.

    ``None`` and empty arrays are omitted (PHP drops them too)."""
    pairs: list[tuple[str, str]] = []
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, (list, tuple)):
        items = list(enumerate(data))
    else:
        value = _scalar(data)
        return [(prefix, value)] if value is not None and prefix else []
    for key, value in items:
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, (dict, list, tuple)):
            pairs.extend(flatten(value, name))
        else:
            scalar = _scalar(value)
            if scalar is not None:
                pairs.append((name, scalar))
    return pairs


def build_query(data: Any) -> str:
    """``http_build_query``: brackets percent-encoded like PHP does."""
    return urlencode(flatten(data), quote_via=quote)
