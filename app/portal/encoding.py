"""Parameters on the wire: one normalisation for every path, PHP bracket queries for batch.

fast-bitrix24 sends batch sub-commands as ``method?query`` with Python's ``str()`` of each
value, so ``None`` becomes ``"None"`` and ``True`` becomes ``"True"``; its query builder also
leaves nested keys unescaped (``filter[=%TITLE]`` would be read as a percent escape). We
normalise values ourselves, the same way for single calls (JSON body) and batch commands,
so a parameter means the same thing whichever path carries it:
``True/False → "Y"/"N"``, ``None → ""``, dates → ISO 8601, ``Decimal`` → string,
tuples/sets → lists.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from urllib.parse import quote


def normalize(value: Any) -> Any:
    """JSON-safe copy of ``value`` with Bitrix's conventions for booleans and empties."""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return normalize(value.value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [normalize(v) for v in value]
    if isinstance(value, (str, int, float)):
        return value
    raise TypeError(f"cannot send a {type(value).__name__} to the portal: {value!r}")


def _pairs(value: Any, prefix: str) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        return [(prefix, str(value))]
    out: list[tuple[str, str]] = []
    for key, item in items:
        name = f"{prefix}[{key}]" if prefix else str(key)
        out.extend(_pairs(item, name))
    return out


def php_query(params: Mapping[str, Any]) -> str:
    """``{"filter": {">ID": 5}, "select": ["ID"]}`` → ``filter%5B%3EID%5D=5&select%5B0%5D=ID``.

    Every key and value is percent-encoded (brackets included), which PHP's ``parse_str``
    decodes back; ``$result[...]`` placeholders survive because the portal substitutes them
    after decoding."""
    pairs = _pairs(normalize(dict(params)), "")
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def command(method: str, params: Mapping[str, Any] | None) -> str:
    """One batch sub-command string: ``method`` or ``method?query``."""
    query = php_query(params or {})
    return f"{method}?{query}" if query else method
