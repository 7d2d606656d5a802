"""PHP-style bracket forms → nested dicts/lists: ``auth[member_id]=x`` → ``{"auth": {...}}``.

Bitrix24 posts ``application/x-www-form-urlencoded`` bodies built by PHP's
``http_build_query``: ``data[FIELDS][ID]=5``, ``document_id[0]=crm``, ``a[]=1&a[]=2``. Keys may
arrive raw (``auth[domain]``) or percent-encoded (``auth%5Bdomain%5D``); after decoding they
are the same. A node whose keys are all ``0..n-1`` (or were appended with ``[]``) becomes a
list. Limits keep a hostile body from costing much: :class:`FormError` (→ HTTP 400) when
exceeded or when a key is both a value and a container.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus

MAX_DEPTH = 8
MAX_KEYS = 1000
MAX_BODY = 256 * 1024

_KEY = re.compile(r"^([^\[\]]*)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    """The form cannot be parsed safely; answer 400 with ``str(exc)``."""


def _pairs(form: Any) -> Iterable[tuple[str, str]]:
    if hasattr(form, "items") and hasattr(form, "getlist"):  # werkzeug MultiDict
        return form.items(multi=True)
    if isinstance(form, Mapping):
        return form.items()
    return form


def _split(key: str) -> list[str]:
    key = unquote_plus(key) if "%5" in key.upper() else key
    match = _KEY.match(key)
    if not match or not match.group(1):
        raise FormError(f"malformed form key {key[:80]!r}")
    parts = [match.group(1), *_PART.findall(match.group(2))]
    if len(parts) > MAX_DEPTH:
        raise FormError(f"form key nested deeper than {MAX_DEPTH}: {key[:80]!r}")
    return parts


def parse_bracket_form(form: Any, *, max_keys: int = MAX_KEYS) -> dict[str, Any]:
    """Nest a flat form (MultiDict, mapping or (key, value) pairs). Raises :class:`FormError`."""
    root: dict[str, Any] = {}
    count = 0
    for raw_key, value in _pairs(form):
        count += 1
        if count > max_keys:
            raise FormError(f"more than {max_keys} form fields")
        parts = _split(str(raw_key))
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":
                part = str(_next_index(node))
            if last:
                if isinstance(node.get(part), dict):
                    raise FormError(f"form key {raw_key!r} is both a value and a container")
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise FormError(f"form key {raw_key!r} is both a value and a container")
                node = child
    return _listify(root)


def parse_body(raw: bytes, *, max_body: int = MAX_BODY) -> dict[str, Any]:
    """Decode and nest a urlencoded body; size limit first, then field limits."""
    from urllib.parse import parse_qsl

    if len(raw) > max_body:
        raise FormError(f"form body larger than {max_body} bytes")
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_KEYS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormError(f"malformed form body: {exc}") from exc
    return parse_bracket_form(pairs)


def _next_index(node: dict[str, Any]) -> int:
    ints = [int(k) for k in node if k.isdigit()]
    return max(ints) + 1 if ints else 0


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    out = {k: _listify(v) for k, v in node.items()}
    keys = list(out)
    if (
        keys
        and all(k.isdigit() for k in keys)
        and sorted(int(k) for k in keys) == list(range(len(keys)))
    ):
        return [out[str(i)] for i in range(len(keys))]
    return out
