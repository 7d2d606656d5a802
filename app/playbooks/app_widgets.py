"""Pages of the app itself, not of one playbook: bound on every installation.

A playbook's tabs come with the playbook (``Playbook.widgets``); these come with the app —
the app's settings, the record's «Автоматизация» tab, the reports menu — whatever playbooks
are installed. ``app.installers.desired.build`` adds them to every installation's plan and
``app.handlers.widgets`` finds them as it finds a playbook's (their playbook is ``None``: no
"not this process" check, every record is the app's business). The ``DEFAULT`` placement
(the app's main frame) needs no binding: the portal opens the app's handler URL there.
"""

from __future__ import annotations

from app.playbooks.schema import Text, WidgetSpec

# The app's main frame (placement DEFAULT): the portal posts it to the app's handler URL
# (``POST /``, app.handlers.pages), which renders this page. It is never bound: "An
# application item in the main menu is not a widget. No handler is registered for it: the
# item opens the main application URL" (api-reference/widgets/index.md).
HOME = WidgetSpec("settings", "DEFAULT", Text("Настройки", "Settings"))

# Each page adds its own entry (code, placement, title): one line per placement.
APP_WIDGETS: tuple[WidgetSpec, ...] = ()
