"""«Что сделать сейчас» tab on a lead (kitchens training mode, seed 002 «режим обучения»).

The hint of the lead's current stage (``app.playbooks.kitchens.training``), from the mirror
and the portal's kitchens settings — refreshed whenever the tab is opened, so it follows the
stage however it moved. With ``training_mode`` off the tab says how to turn it on.
"""

from __future__ import annotations

from app.playbooks.kitchens.training import P, hint_for
from app.rules.changes import normalize
from app.store import mirror
from app.widgets import WidgetContext, page, register, render, t
from app.widgets._store import naming

BODY = """
{% if not enabled %}
<div class="empty" id="training-off">{{ off }}</div>
{% elif not hint %}
<div class="empty" id="no-hint">{{ none }}</div>
{% else %}
<p id="stage" class="muted">{{ stage }}</p>
<p id="hint">{{ hint }}</p>
{% if link %}<p><a id="link" href="{{ link }}" target="_blank" rel="noopener">{{ more }}</a></p>{% endif %}
{% endif %}
"""


@register("training")
def render_page(ctx: WidgetContext) -> str:
    from app.playbooks import load
    from app.playbooks.settings import effective

    with ctx.services.session() as session:
        settings = effective(session, ctx.member_id, "kitchens")
        raw = mirror.get(session, ctx.member_id, "lead", ctx.record_id) if ctx.record_id else None
        schema = naming(session, ctx.member_id)
    lead = normalize("lead", raw, schema) if raw else {}
    codes = schema.stage_codes("lead", raw.get("stageId")) if raw and raw.get("stageId") else []
    stage = next((c for c in codes if c.startswith(P)), "")
    hint, link = hint_for(stage, settings)
    names = {s.code: s.name for s in load("kitchens").all_stages()}
    title = (
        names[stage].ru
        if stage in names and ctx.lang != "en"
        else (names[stage].en if stage in names else "")
    )
    body = render(
        BODY,
        enabled=bool(settings.get("training_mode")),
        hint=hint if lead else "",
        link=link if link.startswith(("https://", "http://")) else "",
        stage=title,
        off=t(ctx, "Режим обучения выключен (настройка training_mode).",
              "Training mode is off (setting training_mode)."),
        none=t(ctx, "Для этой стадии подсказки нет.", "No hint for this stage."),
        more=t(ctx, "Инструкция", "Instructions"),
    )  # fmt: skip
    return page(ctx, t(ctx, "Что сделать сейчас", "What to do now"), body)
