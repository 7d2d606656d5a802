"""CRM_ANALYTICS_MENU «Отчёты» / "Reports": every portal-wide report of the installed
playbooks, with a period, a manager and a deal-pipeline filter, its tables, a chart where one reads better,
and a CSV download.

The page itself only lists the reports and the filters (store only, no portal call besides
the viewer check in ``bearer_for``). Its script asks ``app.handlers.report_pages`` for the
chosen report with the page bearer, builds the tables with ``textContent`` (a manager called
``<script>`` stays text), inserts the server-drawn SVG charts (``app.reports.charts``: no
script inside) and downloads the CSV through the same bearer-guarded API (fetch → Blob).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from markupsafe import Markup

from app.reports.filters import applicable, title
from app.widgets import WidgetContext, page, register, render, t
from app.widgets._viewer import bearer_for

DEFAULT_DAYS = 30

BODY = """<style>
.rp-filters{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:flex-end;margin:0 0 12px}
.rp-filters label{display:flex;flex-direction:column;gap:2px;color:#828b95;font-size:12px}
.rp-filters label[hidden]{display:none}
.rp-chart{margin:8px 0 4px;max-width:780px}.rp-chart svg{width:100%;height:auto}
.rp-table{margin:0 0 16px}.rp-table td.num{text-align:right}
</style>
<div id="reports" data-api="{{ api }}" data-bearer="{{ bearer }}" data-lang="{{ lang }}"
 data-member="{{ member }}"
 data-texts="{{ texts }}">
{% if reports %}
<form class="rp-filters" id="rp-form" onsubmit="return false">
<label>{{ l_report }}<select id="rp-report" name="report">
{% for r in reports %}<option value="{{ r.name }}">{{ r.title }}</option>{% endfor %}
</select></label>
<label>{{ l_since }}<input type="date" id="rp-since" name="since" value="{{ since }}"></label>
<label>{{ l_until }}<input type="date" id="rp-until" name="until" value="{{ until }}"></label>
<label>{{ l_manager }}<select id="rp-manager" name="manager"><option value="">{{ l_all }}</option>
</select></label>
<label id="rp-pipeline-label">{{ l_pipeline }}<select id="rp-pipeline" name="pipeline">
<option value="">{{ l_all }}</option>
{% for p in pipelines %}<option value="{{ p.id }}">{{ p.name }}</option>{% endfor %}
</select></label>
<button type="submit" id="rp-show">{{ l_show }}</button>
<button type="button" class="secondary" id="rp-csv">{{ l_csv }}</button>
</form>
<div class="msg" id="rp-msg" role="status"></div>
<div id="rp-result"></div>
{% else %}<div class="empty">{{ l_none }}</div>{% endif %}
</div>
<script>
(function () {
  var root = document.getElementById("reports");
  var form = document.getElementById("rp-form");
  if (!form) return;
  var T = JSON.parse(root.dataset.texts), lang = root.dataset.lang;
  // the page bearer, renewed by B24Page.fetch when it expires (app.widgets._page_js)
  var auth = {member: root.dataset.member, lang: lang, bearer: root.dataset.bearer};
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function query() {
    var q = new URLSearchParams({lang: lang, since: $("rp-since").value,
      until: $("rp-until").value, manager: $("rp-manager").value,
      pipeline: $("rp-pipeline").value});
    return root.dataset.api + encodeURIComponent($("rp-report").value) + "?" + q;
  }
  function call(url) {
    return B24Page.fetch(auth, url, {})
      .then(function (resp) {
        if (resp.ok) return resp;
        return resp.json().catch(function () { return {}; }).then(function (body) {
          throw new Error(body.error || T.failed + " (" + resp.status + ")");
        });
      });
  }
  function say(text, cls) { var m = $("rp-msg"); m.textContent = text || ""; m.className = "msg " + (cls || ""); }
  function fit() { try { if (window.BX24) BX24.fitWindow(); } catch (e) {} }
  function managers(list, chosen) {
    var select = $("rp-manager");
    while (select.options.length > 1) select.remove(1);
    list.forEach(function (name) {
      var option = el("option", name); option.value = name; select.appendChild(option);
    });
    select.value = list.indexOf(chosen) >= 0 ? chosen : "";
  }
  function pipelines(list, chosen, applies) {
    // the choices as the server knows them now; the filter shows only where it applies
    var select = $("rp-pipeline");
    while (select.options.length > 1) select.remove(1);
    list.forEach(function (p) {
      var option = el("option", p.name); option.value = p.id; select.appendChild(option);
    });
    select.value = chosen;
    $("rp-pipeline-label").hidden = !applies;
  }
  function chart(item) {
    var doc = new DOMParser().parseFromString(item.svg, "image/svg+xml");
    var svg = doc.documentElement;
    if (svg.nodeName !== "svg") return null;
    var box = el("div", null, "rp-chart");
    box.dataset.table = item.table; box.dataset.kind = item.kind; box.dataset.marks = item.marks;
    box.appendChild(document.importNode(svg, true));
    return box;
  }
  function table(data) {
    var wrap = el("div", null, "rp-table");
    wrap.appendChild(el("h2", data.title));
    if (!data.rows.length) { wrap.appendChild(el("div", T.empty, "empty")); }
    else {
      var tbl = el("table"), head = el("tr");
      data.headers.forEach(function (h) { head.appendChild(el("th", h)); });
      tbl.appendChild(head);
      data.rows.forEach(function (row) {
        var tr = el("tr");
        row.forEach(function (v) {
          tr.appendChild(el("td", v === null ? "" : v, typeof v === "number" ? "num" : ""));
        });
        tbl.appendChild(tr);
      });
      wrap.appendChild(tbl);
    }
    if (data.note) wrap.appendChild(el("p", data.note, "muted"));
    if ($("rp-manager").value && !data.by_manager) wrap.appendChild(el("p", T.whole, "muted"));
    return wrap;
  }
  function show() {
    say(T.loading, "muted");
    return call(query()).then(function (resp) { return resp.json(); }).then(function (data) {
      managers(data.managers, data.manager);
      pipelines(data.pipelines, data.pipeline, data.by_pipeline);
      var out = $("rp-result");
      out.textContent = "";
      if (!data.by_pipeline) out.appendChild(el("p", T.nopipeline, "muted"));
      else if (data.pipeline && data.tables.some(function (t) {
        return t.columns.indexOf("leads") >= 0;
      })) out.appendChild(el("p", T.leadswhole, "muted"));
      if (!data.period.applies) out.appendChild(el("p", T.noperiod, "muted"));
      if (data.period.as_of) out.appendChild(el("p", T.asof, "muted"));
      data.tables.forEach(function (tdata, i) {
        data.charts.filter(function (c) { return c.table === i; }).forEach(function (c) {
          var node = chart(c); if (node) out.appendChild(node);
        });
        out.appendChild(table(tdata));
      });
      out.dataset.report = data.report;
      say("");
      fit();
    }).catch(function (err) { say(err.message, "error"); });
  }
  function download() {
    say(T.loading, "muted");
    var url = query().replace("?", "/csv?");
    return call(url).then(function (resp) {
      var name = (resp.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/);
      return resp.blob().then(function (blob) {
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = name ? name[1] : "report.csv";
        document.body.appendChild(a); a.click(); a.remove();
        setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
        say(T.saved + " " + a.download, "ok");
      });
    }).catch(function (err) { say(err.message, "error"); });
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); show(); });
  $("rp-report").addEventListener("change", function () { $("rp-manager").value = ""; show(); });
  $("rp-csv").addEventListener("click", download);
  show();
})();
</script>"""


def _installed(ctx: WidgetContext) -> list[str]:
    from app.store import installations

    with ctx.services.session() as session:
        row = installations.get(session, ctx.member_id)
        return list((row.playbooks if row else None) or ctx.services.settings.playbooks)


def _pipelines(ctx: WidgetContext) -> list[dict]:
    from app.reports.pipelines import deal_pipelines

    with ctx.services.session() as session:
        return [
            {"id": p.id, "name": p.name} for p in deal_pipelines(session, ctx.member_id, ctx.lang)
        ]


def _today(ctx: WidgetContext):
    from app.widgets.automation import portal_people

    with ctx.services.session() as session:
        zone = portal_people(session, ctx.member_id).zone
    return datetime.now(zone).date()


@register("reports")
def render_page(ctx: WidgetContext) -> str:
    reports = [
        {"name": spec.name, "title": title(spec, ctx.lang)} for spec in applicable(_installed(ctx))
    ]
    bearer = bearer_for(ctx)[1] if reports else ""  # who looks: 401/502 WidgetError
    today = _today(ctx)
    texts = {
        "loading": t(ctx, "Загрузка…", "Loading…"),
        "failed": t(ctx, "Не удалось загрузить отчёт", "The report could not be loaded"),
        "empty": t(ctx, "Нет данных за период", "No data for the period"),
        "whole": t(ctx, "Эта таблица не делится по менеджерам", "Not split by manager"),
        "noperiod": t(
            ctx,
            "Период к этому отчёту не применяется: показано текущее состояние",
            "The period does not apply to this report: it shows the current state",
        ),
        "asof": t(
            ctx,
            "Отчёт на дату «по»: дата «с» к нему не применяется",
            "The report is as of the 'until' date: the 'from' date does not apply",
        ),
        "saved": t(ctx, "Скачан файл", "Downloaded"),
        "nopipeline": t(
            ctx,
            "Этот отчёт не делится по воронкам: в нём нет сделок разных воронок",
            "This report is not split by pipeline: it has no deals of several pipelines",
        ),
        "leadswhole": t(
            ctx,
            "Воронка отбирает сделки отчёта; лиды не лежат в воронках и считаются все",
            "The pipeline picks the report's deals; leads are in no pipeline and all count",
        ),
    }
    body = render(
        BODY,
        reports=reports,
        api=f"/pages/{ctx.member_id}/reports/",
        member=ctx.member_id,
        bearer=bearer,
        lang=ctx.lang,
        texts=json.dumps(texts, ensure_ascii=False),
        since=(today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        until=today.isoformat(),
        l_report=t(ctx, "Отчёт", "Report"),
        l_since=t(ctx, "с", "from"),
        l_until=t(ctx, "по", "until"),
        l_manager=t(ctx, "Менеджер", "Manager"),
        l_pipeline=t(ctx, "Воронка", "Pipeline"),
        pipelines=_pipelines(ctx) if reports else [],
        l_all=t(ctx, "Все", "All"),
        l_show=t(ctx, "Показать", "Show"),
        l_csv=t(ctx, "Скачать CSV", "Download CSV"),
        l_none=t(
            ctx,
            "Для установленных сценариев отчётов нет",
            "The installed playbooks have no reports",
        ),
    )
    return page(ctx, t(ctx, "Отчёты", "Reports"), Markup(body))
