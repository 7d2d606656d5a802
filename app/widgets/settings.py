"""The app's home in the portal (placement ``DEFAULT``): playbooks, their settings, install
progress and the audit of setting changes.

Server side (store only): the installed playbooks, each one's settings as a form
(``app.playbooks.settings_form.fields``), the install progress
(``app.handlers.settings_api.status_of``) and the recent setting changes
(``app.store.setting_changes``). The viewer (``app.widgets._viewer``) decides what is
editable: a portal admin gets the forms, the enable/disable and retry buttons; anyone else
sees the same values read-only (and the API refuses them with 403 anyway). The page's
script posts a whole form to ``app.handlers.settings_api`` with the page bearer and puts
each refusal next to its field; every dynamic value goes in with ``textContent``.
"""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from app.playbooks import NAMES, load
from app.widgets import WidgetContext, page, register, render, t
from app.widgets._settings_script import SCRIPT
from app.widgets._viewer import BEARER_TTL_S, bearer_for

CODE = "settings"

BODY = """
<div class="ui-alert" id="role-note">{{ L.role_note }}</div>
<div class="ui-tabs" role="tablist">
<button type="button" class="ui-tab is-active" role="tab" aria-selected="true"
data-tab="playbooks">{{ L.playbooks }}</button>
{% for book in books %}
<button type="button" class="ui-tab" role="tab" aria-selected="false"
data-tab="pb-{{ book.name }}">{{ book.title }}</button>
{% endfor %}
<button type="button" class="ui-tab" role="tab" aria-selected="false"
data-tab="history">{{ L.history }}</button>
{% if preview %}<button type="button" class="ui-tab" role="tab" aria-selected="false"
data-tab="preview">{{ L.preview }}</button>{% endif %}
{% if importer %}<button type="button" class="ui-tab" role="tab" aria-selected="false"
data-tab="import">{{ L.importer }}</button>{% endif %}
</div>

<section role="tabpanel" class="ui-tab-panel is-active" id="tab-playbooks">
<table class="ui-table" id="playbooks">
<thead><tr><th>{{ L.playbook }}</th><th>{{ L.state }}</th><th></th></tr></thead>
<tbody>
{% for row in catalogue %}
<tr data-playbook="{{ row.name }}"><td>{{ row.title }} <span class="muted">{{ row.name }}</span></td>
<td><span class="ui-label {{ 'ui-label-success' if row.on else '' }} pb-state">
{{ L.on if row.on else L.off }}</span></td>
<td>{% if admin %}{% if row.on %}
<button type="button" class="ui-btn ui-btn-xs ui-btn-light-border pb-toggle" data-action="disable"
{% if only_one %}disabled{% endif %}>{{ L.disable }}</button>
{% else %}
<button type="button" class="ui-btn ui-btn-xs pb-toggle" data-action="enable">{{ L.enable }}</button>
{% endif %}{% endif %}</td></tr>
{% endfor %}
</tbody></table>
<h2>{{ L.progress }}</h2>
<div id="install">
<div class="ui-progress"><div class="ui-progress-bar" id="install-bar"></div></div>
<div id="install-state"></div>
<div class="ui-alert ui-alert-danger" id="install-error"></div>
<div class="ui-alert ui-alert-success" id="reopen" hidden>{{ L.reopen }}</div>
<ol class="muted" id="install-steps"></ol>
{% if admin %}<button type="button" class="ui-btn ui-btn-sm ui-btn-light-border" id="retry"
hidden>{{ L.retry }}</button>{% endif %}
</div>
</section>

{% for book in books %}
<section role="tabpanel" class="ui-tab-panel" id="tab-pb-{{ book.name }}">
<form class="settings-form" data-playbook="{{ book.name }}" novalidate>
{% for section in book.sections %}
<h3>{{ section.title }}</h3>
{% for f in section.fields %}
<div class="ui-form-row" data-key="{{ f.key }}" data-kind="{{ f.kind }}" data-shape="{{ f.shape }}">
<label class="ui-form-label" for="f-{{ book.name }}-{{ f.key }}">{{ f.label }}
{% if f.overridden %}<span class="ui-label" title="{{ L.changed_hint }}">{{ L.changed }}</span>{% endif %}
</label>
<div class="ui-form-content">
{% if f.kind == "bool" %}
<label><input type="checkbox" id="f-{{ book.name }}-{{ f.key }}" name="{{ f.key }}"
{% if f.value %}checked{% endif %} {{ ro }}> {{ L.yes }}</label>
{% elif f.kind in ("number", "int") %}
<input type="text" inputmode="decimal" id="f-{{ book.name }}-{{ f.key }}" name="{{ f.key }}"
value="{{ f.shown }}" {{ ro }}> <span class="muted">{{ f.unit }}</span>
{% elif f.kind == "table" and f.shape != "json" %}
<table class="ui-table edit-table" id="f-{{ book.name }}-{{ f.key }}">
<thead><tr>{% for c in f.heads %}<th>{{ c }}</th>{% endfor %}<th></th></tr></thead>
<tbody>{% for row in f.rows %}<tr>{% for cell in row %}<td><input type="text"
value="{{ cell }}" {{ ro }}></td>{% endfor %}<td>{% if admin %}<button type="button"
class="ui-btn ui-btn-xs ui-btn-link row-del" title="{{ L.del_row }}">×</button>{% endif %}</td></tr>
{% endfor %}</tbody></table>
{% if admin %}<button type="button" class="ui-btn ui-btn-xs ui-btn-light-border row-add">
+ {{ L.add_row }}</button>{% endif %}
{% elif f.kind == "table" %}
<textarea id="f-{{ book.name }}-{{ f.key }}" name="{{ f.key }}" rows="4" {{ ro }}>{{ f.shown }}</textarea>
<div class="ui-form-hint">JSON</div>
{% elif f.secret %}
<input type="password" id="f-{{ book.name }}-{{ f.key }}" name="{{ f.key }}" value=""
placeholder="{{ L.secret if f.overridden else '' }}" autocomplete="off" style="width:100%" {{ ro }}>
{% elif f.kind == "template" or (f.shown|length) > 60 %}
<textarea id="f-{{ book.name }}-{{ f.key }}" name="{{ f.key }}" rows="2" {{ ro }}>{{ f.shown }}</textarea>
{% else %}
<input type="text" id="f-{{ book.name }}-{{ f.key }}" name="{{ f.key }}" value="{{ f.shown }}"
style="width:100%" {{ ro }}>
{% endif %}
{% if f.placeholders %}<details class="ui-form-hint"><summary>{{ L.fields }}
({{ f.placeholders|length }})</summary>{% for p in f.placeholders
%}{{ "{" ~ p ~ "}" }}{% if not loop.last %}, {% endif %}{% endfor %}</details>{% endif %}
<div class="ui-form-error" data-error-for="{{ f.key }}"></div>
</div></div>
{% endfor %}
{% endfor %}
<div class="ui-alert form-status" role="status"></div>
{% if admin %}<p><button type="submit" class="ui-btn ui-btn-success save">{{ L.save }}</button></p>{% endif %}
</form>
</section>
{% endfor %}

<section role="tabpanel" class="ui-tab-panel" id="tab-history">
<table class="ui-table" id="history">
<thead><tr><th>{{ L.when }}</th><th>{{ L.who }}</th><th>{{ L.playbook }}</th>
<th>{{ L.setting }}</th><th>{{ L.was }}</th><th>{{ L.now }}</th></tr></thead>
<tbody>{% for h in history %}<tr><td>{{ h.when }}</td><td>{{ h.who }}</td>
<td>{{ h.playbook }}</td><td>{{ h.key }}</td><td>{{ h.old }}</td><td>{{ h.new }}</td></tr>
{% endfor %}</tbody></table>
<div class="empty" id="history-empty" {% if history %}hidden{% endif %}>{{ L.no_history }}</div>
</section>
{% if preview %}<section role="tabpanel" class="ui-tab-panel" id="tab-preview">{{ preview }}</section>{% endif %}
{% if importer %}<section role="tabpanel" class="ui-tab-panel" id="tab-import">{{ importer }}</section>{% endif %}

<script type="application/json" id="cfg">{{ cfg|tojson }}</script>
{{ script }}
"""


def _labels(ctx: WidgetContext, admin: bool) -> dict[str, str]:
    def L(ru: str, en: str) -> str:
        return t(ctx, ru, en)

    return {
        "role_note": L(
            "Вы администратор портала: настройки можно менять.",
            "You are a portal administrator: you can change the settings.",
        )
        if admin
        else L(
            "Настройки может менять только администратор портала; вам они показаны для чтения.",
            "Only a portal administrator can change the settings; you see them read-only.",
        ),
        "playbooks": L("Сценарии", "Playbooks"),
        "history": L("История изменений", "Change history"),
        "preview": L("Предпросмотр", "Dry run"),
        "importer": L("Импорт из Excel", "Excel import"),
        "playbook": L("Сценарий", "Playbook"),
        "state": L("Состояние", "State"),
        "on": L("Включён", "Enabled"),
        "off": L("Выключен", "Disabled"),
        "enable": L("Включить", "Enable"),
        "disable": L("Отключить", "Disable"),
        "progress": L("Установка и обновление", "Install and update"),
        "retry": L("Повторить установку", "Retry the install"),
        "changed": L("изменено", "changed"),
        "changed_hint": L("Значение изменено на этом портале", "Changed on this portal"),
        "yes": L("да", "yes"),
        "del_row": L("Удалить строку", "Delete the row"),
        "add_row": L("строка", "row"),
        "secret": L("задан — введите новый, чтобы заменить", "set — type a new one to replace"),
        "fields": L("Поля, которые можно подставить", "Fields you can use"),
        "save": L("Сохранить", "Save"),
        "when": L("Когда", "When"),
        "who": L("Кто", "Who"),
        "setting": L("Настройка", "Setting"),
        "was": L("Было", "Was"),
        "now": L("Стало", "Now"),
        "no_history": L("Настройки ещё не менялись", "No setting has been changed yet"),
        "saving": L("Сохраняем…", "Saving…"),
        "saved": L("Сохранено изменений", "Changes saved"),
        "nothing": L("Изменений нет", "Nothing changed"),
        "not_saved": L(
            "Ничего не сохранено: исправьте отмеченные поля",
            "Nothing was saved: fix the marked fields",
        ),
        "failed": L("Не удалось сохранить", "Could not save"),
        "queued": L("Поставлено в очередь…", "Queued…"),
        "done": L("Готово", "Done"),
        "failed_install": L("Установка не завершена", "The install did not finish"),
        "reopen": L(
            "Сценарий включён: откройте приложение заново, чтобы увидеть его настройки.",
            "The playbook is enabled: reopen the app to see its settings.",
        ),
    }


def _shown(value: Any, lang: str) -> str:
    """A value as the form shows it: numbers with the page's decimal mark, tables as JSON."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        text = str(value)
        return text.replace(".", ",") if lang == "ru" else text
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=1)
    return str(value)


def _cell(value: Any, lang: str) -> str:
    if isinstance(value, list):
        return ", ".join(_cell(v, lang) for v in value)
    return _shown(value, lang) if not isinstance(value, str) else value


def _grid(field, lang: str) -> tuple[list[str], list[list[str]]]:
    """Column heads and cell texts of a table field's editor."""
    value = field.value
    if field.shape == "map":
        heads = [t_key(lang), t_value(lang)]
        return heads, [[str(k), _cell(v, lang)] for k, v in (value or {}).items()]
    if field.shape == "list":
        return [t_value(lang)], [[_cell(v, lang)] for v in (value or [])]
    names = [name for name, _ in field.columns]
    rows = [[_cell(r.get(n), lang) for n in names] for r in (value or []) if isinstance(r, dict)]
    return names, rows


def t_key(lang: str) -> str:
    return "Key" if lang == "en" else "Ключ"


def t_value(lang: str) -> str:
    return "Value" if lang == "en" else "Значение"


def history_rows(session, member_id: str, lang: str) -> list[dict[str, str]]:
    """The recent setting changes as the page's table shows them."""
    from app.store import setting_changes

    def short(value: Any) -> str:
        text = _cell(value, lang) if not isinstance(value, dict) else _shown(value, lang)
        text = "—" if text == "" and value in (None, "") else text
        if isinstance(value, bool):
            text = ("да" if value else "нет") if lang == "ru" else ("yes" if value else "no")
        return text if len(text) <= 120 else text[:117] + "…"

    from app.widgets._store import people

    clock = people(session, member_id)  # the portal's time, said with its offset
    out = []
    for row in setting_changes.recent(session, member_id):
        secret = row.key in _secret_keys()
        out.append(
            {
                "when": f"{clock.when(row.changed_at)} ({clock.label()})",
                "who": row.user_name + (f" (#{row.user_id})" if row.user_id is not None else ""),
                "playbook": row.playbook,
                "key": _setting_label(row.playbook, row.key, lang),
                "old": ("***" if row.old_value else "—") if secret else short(row.old_value),
                "new": ("***" if row.new_value else "—") if secret else short(row.new_value),
            }
        )
    return out


def _setting_label(playbook: str, key: str, lang: str) -> str:
    """«Шаблон названия (title_template)»; the bare key for a setting no longer declared."""
    try:
        label = load(playbook).setting(key).label
    except (KeyError, ValueError):
        return key
    return f"{label.en if lang == 'en' else label.ru} ({key})"


def _secret_keys():
    from app.channels.settings import SECRET_KEYS

    return SECRET_KEYS


def _section_of(field: dict) -> str:
    """Which part of the form a setting goes in (all parts are saved together)."""
    from app.channels.settings import SPECS

    if field["key"] in {spec.key for spec in SPECS}:  # what every playbook shares
        return "channels"
    if field["kind"] == "table":
        return "tables"
    if field["kind"] in ("template", "text"):
        return "texts"
    return "main"


def _sections(ctx: WidgetContext, book_fields: list[dict]) -> list[dict]:
    titles = {
        "main": t(ctx, "Сроки, числа и переключатели", "Durations, numbers and switches"),
        "tables": t(ctx, "Таблицы", "Tables"),
        "texts": t(ctx, "Тексты и шаблоны", "Texts and templates"),
        "channels": t(ctx, "Каналы связи с клиентами", "Client channels"),
    }
    out = []
    for code, title in titles.items():
        chosen = [f for f in book_fields if _section_of(f) == code]
        if chosen:
            out.append({"title": title, "fields": chosen})
    return out


@register(CODE)
def render_settings(ctx: WidgetContext) -> str:
    from app.handlers.settings_api import NAME_TTL_S, name_key, status_of
    from app.installers.playbook_set import installed
    from app.playbooks.settings_form import fields

    who, bearer = bearer_for(ctx)
    admin = who.admin
    # the audit names the viewer as the portal did (the bearer carries only the id)
    ctx.services.redis.set(
        name_key(ctx.member_id, who.user_id), who.name, ex=max(BEARER_TTL_S, NAME_TTL_S)
    )
    with ctx.services.session() as session:
        names = installed(session, ctx.member_id)
        books = []
        for name in names:
            book_fields = []
            for f in fields(session, ctx.member_id, name, ctx.lang):
                heads, rows = _grid(f, ctx.lang) if f.kind == "table" else ([], [])
                book_fields.append(
                    {**f.__dict__, "shown": _shown(f.value, ctx.lang), "heads": heads, "rows": rows}
                )
            title = load(name).title
            books.append(
                {
                    "name": name,
                    "title": title.en if ctx.lang == "en" else title.ru,
                    "sections": _sections(ctx, book_fields),
                }
            )
        history = history_rows(session, ctx.member_id, ctx.lang)
    catalogue = []
    for name in NAMES:
        title = load(name).title
        catalogue.append(
            {"name": name, "title": title.en if ctx.lang == "en" else title.ru, "on": name in names}
        )
    labels = _labels(ctx, admin)
    # admins' tools on their own tabs: what a playbook would have done (app.widgets.dry_run)
    # and metal's client import from Excel (app.widgets._import_section)
    preview = importer = ""
    if admin:
        from app.widgets._import_section import render_import_section
        from app.widgets.dry_run import section as dry_run_section

        preview = dry_run_section(
            ctx, bearer, chosen=next((n for n in NAMES if n not in names), "")
        )
        if "metal" in names:
            importer = render_import_section(ctx, bearer)
    cfg = {
        "member": ctx.member_id,
        "bearer": bearer,
        "lang": ctx.lang,
        "admin": admin,
        "labels": labels,
        "install": status_of(ctx.services, ctx.member_id),
        "shown": names,
    }
    body = render(
        BODY,
        L=labels,
        books=books,
        catalogue=catalogue,
        only_one=len(names) <= 1,
        admin=admin,
        ro="" if admin else "disabled",
        history=history,
        preview=Markup(preview),
        importer=Markup(importer),
        cfg=cfg,
        script=Markup(SCRIPT),
    )
    return page(ctx, t(ctx, "Автоматизация продаж: настройки", "Sales automation: settings"), body)
