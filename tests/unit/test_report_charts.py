"""Charts of the reports page (app.reports.charts): pygal SVG without any script, one mark
per row, labels as text, and every chart naming a column its report really has."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.reports import REPORTS, Table, build
from app.reports.charts import CHARTS, ChartSpec, points, svg

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(1)</script>"
ROWS = ((HOSTILE, 5), ("Б", 3), ("В", 0), ("Г", None))


def _marks(markup: str, kind: str) -> int:
    pattern = {
        "hbar": r'<rect[^>]*class="rect reactive tooltip-trigger"',
        "funnel": r'<polygon[^>]*class="funnel reactive tooltip-trigger"',
        "pie": r'<path[^>]*class="slice reactive tooltip-trigger"',
        "line": r'<circle[^>]*class="dot reactive tooltip-trigger"',
    }[kind]
    return len(re.findall(pattern, markup))


@pytest.mark.parametrize(("kind", "marks"), [("hbar", 3), ("line", 3), ("pie", 2), ("funnel", 3)])
def test_each_kind_draws_a_mark_per_row_and_carries_no_script(kind, marks):
    table = Table("t", ("who", "n"), ROWS)
    markup = svg(ChartSpec(0, kind, "who", "n"), table, "Заголовок")
    root = ET.fromstring(markup)  # well-formed SVG
    assert root.tag == f"{NS}svg"
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    assert "<script" not in markup and "&lt;script&gt;" in markup  # the label is text
    assert "http" not in re.sub(r'xmlns(:\w+)?="[^"]+"|<!--.*?-->', "", markup)  # no CDN
    # a row without a number is left out, and a pie's 0 slice; the page's "marks" agree
    assert _marks(markup, kind) == marks == len(points(ChartSpec(0, kind, "who", "n"), table))


def test_horizontal_bars_keep_the_tables_order_top_down():
    table = Table("t", ("who", "n"), (("first", 1), ("second", 2)))
    markup = svg(ChartSpec(0, "hbar", "who", "n"), table)
    labels = re.findall(r'<text[^>]*y="([\d.]+)"[^>]*>(first|second)</text>', markup)
    y = {name: float(pos) for pos, name in labels}
    assert y["first"] < y["second"]


def test_nothing_to_draw_is_no_chart():
    assert svg(ChartSpec(0, "hbar", "who", "n"), Table("t", ("who", "n"), ())) is None
    assert svg(ChartSpec(0, "pie", "who", "n"), Table("t", ("who", "n"), (("a", 0),))) is None
    assert svg(ChartSpec(0, "hbar", "who", "missing"), Table("t", ("who", "n"), ROWS)) is None


def test_every_chart_names_a_table_and_columns_its_report_has():
    from app.store.base import Base
    from app.store.migrate import import_models

    engine = create_engine("sqlite://")
    import_models()
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for name, charts in CHARTS.items():
            assert name in REPORTS, name
            tables = build(name, session, "nobody")
            for chart in charts:
                columns = tables[chart.table].columns
                assert chart.label in columns and chart.value in columns, (name, chart)
