"""Charts for the reports page: which table of a report reads better as a picture, drawn as
SVG on the server by pygal (requirements.txt) with its JavaScript left out.

Why server-side SVG: the page works offline (no CDN, nothing to serve but our own HTML),
a test can count the bars in the markup, and a label is XML-escaped by the library's
serializer, so a manager called ``<script>`` is text. pygal always embeds a config
``<script>`` for its optional tooltips; :func:`svg` removes every script element, so the
markup the page inserts carries no code at all.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.reports import Table

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
MAX_POINTS = 30  # a bar chart of 200 clients reads worse than the table under it


@dataclass(frozen=True)
class ChartSpec:
    """Draw column ``value`` of table ``table`` against column ``label`` as ``kind``
    (``hbar`` horizontal bars, ``funnel``, ``pie``, ``line``)."""

    table: int
    kind: str
    label: str
    value: str


# report → its charts. Only where a picture says more than the table: time in stage, the
# funnel, refusal reasons, segments, and the per-person comparisons.
CHARTS: dict[str, tuple[ChartSpec, ...]] = {
    "order_timing": (ChartSpec(0, "hbar", "stage", "avg_h"),),
    "eshop_funnel": (ChartSpec(0, "funnel", "stage", "reached"),),
    "eshop_refusals": (ChartSpec(0, "pie", "reason", "orders"),),
    "eshop_clients": (ChartSpec(1, "pie", "segment", "clients"),),
    "b2b_conversion": (ChartSpec(0, "hbar", "manager", "%"),),
    "b2b_nps": (ChartSpec(1, "line", "month", "nps"),),
    "b2b_tasks": (ChartSpec(0, "hbar", "employee", "overdue_%"),),
    "b2b_debts": (ChartSpec(0, "hbar", "client", "outstanding"),),
    "b2b_samples": (ChartSpec(0, "hbar", "rep", "samples"),),
    "lead_sources": (ChartSpec(0, "hbar", "source", "leads"),),
    "metal_managers": (ChartSpec(0, "hbar", "manager", "leads"),),
}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def points(spec: ChartSpec, table: Table) -> list[tuple[str, float]]:
    """(label, value) pairs of ``table`` for ``spec``, one per mark drawn: rows without a
    number are left out, and so are a pie's zero slices."""
    try:
        li, vi = table.columns.index(spec.label), table.columns.index(spec.value)
    except ValueError:
        return []
    out = []
    for row in table.rows[:MAX_POINTS]:
        value = _number(row[vi])
        if value is not None and (value > 0 or spec.kind != "pie"):  # a 0 slice is nothing
            out.append(("—" if row[li] in (None, "") else str(row[li]), value))
    return out


def _style():
    from pygal.style import Style

    return Style(
        background="transparent",
        plot_background="transparent",
        foreground="#535c69",
        foreground_strong="#333",
        foreground_subtle="#a8adb4",
        colors=("#3bc8f5", "#9dcf00", "#ffa900", "#ff5752", "#2fc6f6", "#55d0e0", "#a066f3"),
        font_family='-apple-system,"Segoe UI",Roboto,Arial,sans-serif',
        label_font_size=12,
        major_label_font_size=12,
        value_font_size=11,
        legend_font_size=12,
        title_font_size=14,
        guide_stroke_color="#e6eaed",
        major_guide_stroke_color="#d5dade",
        guide_stroke_dasharray="0",
        major_guide_stroke_dasharray="0",
    )


def _chart(spec: ChartSpec, data: list[tuple[str, float]], title: str):
    import pygal

    common = dict(
        js=[],  # no script files from a CDN: the page must work offline
        style=_style(),
        disable_xml_declaration=True,
        width=760,
        height=max(220, 36 * len(data) + 80) if spec.kind == "hbar" else 340,
        title=title,
        print_values=True,
        explicit_size=False,
        truncate_label=40,
    )
    if spec.kind == "hbar":
        chart = pygal.HorizontalBar(show_legend=False, **common)
        rows = data[::-1]  # pygal stacks bars bottom-up; the table's first row goes on top
        chart.x_labels = [label for label, _ in rows]
        chart.add(spec.value, [value for _, value in rows])
        _whole_ticks(chart, data)
    elif spec.kind == "line":
        chart = pygal.Line(show_legend=False, **common)
        chart.x_labels = [label for label, _ in data]
        chart.add(spec.value, [value for _, value in data])
    elif spec.kind in ("pie", "funnel"):
        cls = pygal.Pie if spec.kind == "pie" else pygal.Funnel
        chart = cls(legend_at_bottom=True, **common)
        for label, value in data:
            chart.add(label, [value])
    else:  # pragma: no cover - CHARTS is ours
        raise ValueError(f"unknown chart kind {spec.kind!r}")
    return chart


def _whole_ticks(chart, data: list[tuple[str, float]]) -> None:
    """Counts (leads, orders) get ticks 0, 1, 2… instead of 0.2, 0.4…"""
    top = max((value for _, value in data), default=0)
    if all(float(value).is_integer() for _, value in data) and 0 < top <= 20:
        chart.y_labels = list(range(0, int(top) + 1))


def _without_scripts(markup: str) -> str:
    """pygal's SVG with every ``<script>`` removed (its tooltip config; we serve no JS)."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    root = ET.fromstring(markup)
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{SVG_NS}}}script", "script"):
                parent.remove(child)
    return ET.tostring(root, encoding="unicode")


def svg(spec: ChartSpec, table: Table, title: str = "") -> str | None:
    """The chart of ``table`` as standalone SVG markup, None when there is nothing to draw."""
    data = points(spec, table)
    if not data:
        return None
    if spec.kind == "funnel" and not any(value > 0 for _, value in data):
        return None
    return _without_scripts(_chart(spec, data, title).render(is_unicode=True))
