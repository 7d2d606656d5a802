"""Tables → escaped HTML fragments for widget pages (Jinja2 autoescape via app.widgets)."""

from __future__ import annotations

from collections.abc import Iterable

from app.reports import Table

TABLES = """{% for t in tables %}<h2>{{ t.title }}</h2>
{% if t.rows %}<table><tr>{% for c in t.columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for r in t.rows %}<tr>{% for v in r %}<td>{{ '' if v is none else v }}</td>{% endfor %}</tr>
{% endfor %}</table>{% else %}<div class="empty">{{ empty }}</div>{% endif %}
{% if t.note %}<p class="muted">{{ t.note }}</p>{% endif %}{% endfor %}"""


def tables_html(tables: Iterable[Table], empty: str = "—") -> str:
    from app.widgets import render

    return render(TABLES, tables=list(tables), empty=empty)
