"""Pages of the app itself, not of one playbook: bound on every installation.

A playbook's tabs come with the playbook (``Playbook.widgets``); these come with the app —
the app's settings, the record's «Автоматизация» tab, the reports menu — whatever playbooks
are installed. ``app.installers.desired.build`` adds them to every installation's plan and
``app.handlers.widgets`` finds them as it finds a playbook's (their playbook is ``None``: no
"not this process" check, every record is the app's business). The ``DEFAULT`` placement
(the app's main frame) needs no binding: the portal opens the app's handler URL there.
"""

from __future__ import annotations

import re

from app.playbooks.schema import Text, WidgetSpec

_AUTOMATION = Text("Автоматизация", "Automation")

# The app's main frame (placement DEFAULT): the portal posts it to the app's handler URL
# (``POST /``, app.handlers.pages), which renders this page. It is never bound: "An
# application item in the main menu is not a widget. No handler is registered for it: the
# item opens the main application URL" (api-reference/widgets/index.md).
HOME = WidgetSpec("settings", "DEFAULT", Text("Настройки", "Settings"))

# Each page adds its own entry (code, placement, title): one line per placement.
# The record's «Автоматизация» tab (app.widgets.automation): one code per placement, as the
# widget route finds a page by its code. Placement codes: api-reference/widgets/crm/
# detail-tab.md (CRM_XXX_DETAIL_TAB, CRM_DYNAMIC_XXX_DETAIL_TAB with the smart process's id).
APP_WIDGETS: tuple[WidgetSpec, ...] = (
    WidgetSpec("automation_lead", "CRM_LEAD_DETAIL_TAB", _AUTOMATION),
    WidgetSpec("automation_deal", "CRM_DEAL_DETAIL_TAB", _AUTOMATION),
    WidgetSpec("automation_contact", "CRM_CONTACT_DETAIL_TAB", _AUTOMATION),
    WidgetSpec("automation_company", "CRM_COMPANY_DETAIL_TAB", _AUTOMATION),
    WidgetSpec("automation_object", "CRM_DYNAMIC_{metal.object}_DETAIL_TAB", _AUTOMATION),
    # the admins' dry-run preview of a playbook (app.widgets.dry_run), in the CRM analytics
    # menu: api-reference/widgets/crm/analytics-menu.md (CRM_ANALYTICS_MENU)
    WidgetSpec("dry_run", "CRM_ANALYTICS_MENU", Text("Предпросмотр сценария", "Playbook dry run")),
    # the reports page (app.widgets.reports), also an item in CRM › Analytics
    WidgetSpec("reports", "CRM_ANALYTICS_MENU", Text("Отчёты", "Reports")),
)

_REF = re.compile(r"\{([a-z0-9_]+)\.[a-z0-9_.]+\}")


def app_widgets_for(playbooks) -> tuple[WidgetSpec, ...]:
    """The app-wide pages a portal running ``playbooks`` gets: an entry whose placement names
    a playbook's smart process (``{metal.object}``) only when that playbook is installed —
    otherwise there is no such tab to bind, and its step would wait forever."""
    installed = set(playbooks)
    return tuple(
        w for w in APP_WIDGETS if all(ref in installed for ref in _REF.findall(w.placement))
    )
