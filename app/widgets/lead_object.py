"""«Объект» tab on a lead (metal): the Object linked to the lead, from the mirror.

The link is the lead's ``UF_CRM_MT_OBJECT`` field, else an Object whose parent is the lead
(``parentId1``). Shows site, area, tonnage, purpose, stage, responsible and how many
duplicate candidates the Object has; a clear empty state when nothing is linked yet.
"""

from __future__ import annotations

from app.objects import index
from app.objects.keys import linked_object
from app.rules.changes import normalize
from app.store import mirror
from app.widgets import WidgetContext, page, register, render, t
from app.widgets._metal import load_object
from app.widgets._store import naming

BODY = """
{% if obj is none %}
<div class="empty" id="no-object">{{ empty }}</div>
{% else %}
<table id="object">
<tr><th>{{ L.object }}</th><td>#{{ obj.id }} {{ obj.title }}</td></tr>
<tr><th>{{ L.site }}</th><td>{{ obj.site or "—" }}</td></tr>
<tr><th>{{ L.area }}</th><td>{{ obj.area if obj.area != "" else "—" }}</td></tr>
<tr><th>{{ L.tonnage }}</th><td>{{ obj.tonnage if obj.tonnage != "" else "—" }}</td></tr>
<tr><th>{{ L.purpose }}</th><td>{{ obj.purpose or "—" }}</td></tr>
<tr><th>{{ L.stage }}</th><td>{{ obj.stage or "—" }}</td></tr>
<tr><th>{{ L.responsible }}</th><td>{{ obj.responsible or "—" }}</td></tr>
<tr><th>{{ L.duplicates }}</th><td id="duplicates">{{ obj.duplicates|length }}
{% if obj.duplicates %}<span class="muted">(#{{ obj.duplicates|join(", #") }})
— {{ L.merge_hint }}</span>{% endif %}</td></tr>
</table>
{% endif %}
"""


def _labels(ctx: WidgetContext) -> dict[str, str]:
    return {
        "object": t(ctx, "Объект", "Object"),
        "site": t(ctx, "Адрес / площадка", "Address / site"),
        "area": t(ctx, "Площадь, м²", "Area, m²"),
        "tonnage": t(ctx, "Тоннаж, т", "Tonnage, t"),
        "purpose": t(ctx, "Назначение", "Purpose"),
        "stage": t(ctx, "Стадия", "Stage"),
        "responsible": t(ctx, "Ответственный", "Responsible"),
        "duplicates": t(ctx, "Возможные дубли", "Duplicate candidates"),
        "merge_hint": t(
            ctx, "объединить можно на вкладке «Дубли объекта»", "merge them on the Object's tab"
        ),
    }


def linked_object_id(session, member_id: str, lead_id: int) -> int | None:
    """The Object of the lead: its binding field, else the first Object parented to it."""
    raw = mirror.get(session, member_id, "lead", lead_id)
    if raw is not None:
        found = linked_object(normalize("lead", raw, naming(session, member_id)))
        if found:
            return found
    children = index.linked(session, member_id, "lead", lead_id)
    return children[0] if children else None


@register("lead_object")
def render_page(ctx: WidgetContext) -> str:
    with ctx.services.session() as session:
        object_id = linked_object_id(session, ctx.member_id, ctx.record_id)
        obj = load_object(session, ctx.member_id, object_id, ctx.lang) if object_id else None
    if object_id and obj is None:
        empty = t(
            ctx,
            f"Объект #{object_id} ещё не загружен из портала — обновите вкладку позже.",
            f"Object #{object_id} has not been synced yet — reload the tab later.",
        )
    else:
        empty = t(
            ctx,
            "К лиду ещё не привязан объект. Он появится, когда заполнены размеры и место "
            "строительства.",
            "No Object is linked to this lead yet. It appears once the dimensions and the "
            "construction site are filled in.",
        )
    body = render(BODY, obj=obj, empty=empty, L=_labels(ctx))
    return page(ctx, t(ctx, "Объект лида", "Lead's Object"), body)
