"""Keyset paging for big lists: ``order {id: ASC}``, ``filter {">id": last}``, ``start=-1``.

Offset paging makes the portal count every matching row on every page, which burns the
method's operating budget (fast-bitrix24's ``get_all`` does exactly that). With ``start=-1``
nothing is counted; each page continues after the last id seen, so every record comes back
exactly once even while records are added.

With ``batch_pages > 1`` one ``batch`` request carries up to 50 pages chained through
``$result``: page *k* filters on ``$result[p{k-1}][items][49][id]`` (``[49][ID]`` for
legacy methods whose result is a plain list), so 100,000 records take about 40 requests.
When a page comes back short the list is over; the pages after it in the same batch ran
with an unresolvable placeholder, and their results (or errors) are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

PAGE_SIZE = 50
MAX_BATCH = 50


def keyset_params(params: Mapping[str, Any] | None, id_field: str) -> tuple[dict, dict, Any]:
    """(base params with order/start set, the caller's filter, the starting id)."""
    base = dict(params or {})
    for clash in ("order", "start"):
        if clash in base:
            raise ValueError(f"iter_list sets {clash!r} itself (keyset paging by {id_field})")
    flt = dict(base.pop("filter", None) or {})
    last = flt.pop(">" + id_field, 0)
    select = base.get("select")
    if select and "*" not in select and id_field not in select:
        base["select"] = [*select, id_field]
    base["order"] = {id_field: "ASC"}
    base["start"] = -1
    return base, flt, last


def page_items(result: Any, items_key: str | None) -> list[dict]:
    """The rows of one page: ``result[items_key]``, a plain list, or a one-key dict's list."""
    if items_key is not None:
        rows = result.get(items_key) if isinstance(result, Mapping) else None
    elif isinstance(result, list):
        rows = result
    elif isinstance(result, Mapping) and len(result) == 1:
        rows = next(iter(result.values()))
    else:
        rows = None
    if not isinstance(rows, list):
        raise ValueError(f"list page has no item list (items_key={items_key!r}): {type(result)}")
    return rows


def iter_list(
    client: Any,
    method: str,
    params: Mapping[str, Any] | None = None,
    *,
    id_field: str = "ID",
    items_key: str | None = None,
    batch_pages: int = 1,
    progress: Callable[[int], None] | None = None,
    priority: str = "sync",
) -> Iterator[dict]:
    """Every record of ``method`` once, in id order. ``progress(n)`` gets each page's count."""
    if not 1 <= batch_pages <= MAX_BATCH:
        raise ValueError(f"batch_pages must be 1..{MAX_BATCH}")
    base, flt, last = keyset_params(params, id_field)
    gt = ">" + id_field
    while True:
        if batch_pages == 1:
            page = client.call_list_page(
                method, {**base, "filter": {**flt, gt: last}}, priority=priority
            )
            pages = [page.result]
        else:
            pages = _fetch_chained(
                client, method, base, flt, gt, last, items_key, id_field, batch_pages, priority
            )
        for result in pages:
            rows = page_items(result, items_key)
            yield from rows
            if progress is not None and rows:
                progress(len(rows))
            if len(rows) < PAGE_SIZE:
                return
            last = rows[-1][id_field]


def _fetch_chained(
    client: Any,
    method: str,
    base: dict,
    flt: dict,
    gt: str,
    last: Any,
    items_key: str | None,
    id_field: str,
    n: int,
    priority: str,
) -> Iterator[Any]:
    """Results of up to ``n`` chained pages, in order, stopping after the first short one."""
    commands: dict[str, tuple[str, dict]] = {}
    for i in range(n):
        if i == 0:
            bound: Any = last
        else:
            path = f"[{items_key}]" if items_key else ""
            bound = f"$result[p{i - 1}]{path}[{PAGE_SIZE - 1}][{id_field}]"
        commands[f"p{i}"] = (method, {**base, "filter": {**flt, gt: bound}})
    reply = client.batch(commands, priority=priority)
    for i in range(n):
        key = f"p{i}"
        if key in reply.errors:
            raise reply.errors[key]
        result = reply.results.get(key)
        yield result
        if len(page_items(result, items_key)) < PAGE_SIZE:
            return
