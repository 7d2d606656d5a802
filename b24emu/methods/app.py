"""``app.info``, ``app.option.*``, ``user.option.*`` (basic scope, application context)."""

from __future__ import annotations

from typing import Any

from b24emu.core_state import App
from b24emu.registry import Call, RestError, method


def current_app(call: Call) -> App:
    """The calling app, or 403 ACCESS_DENIED 'Application context required' for webhooks."""
    app = call.portal.core.apps.get(call.auth.client_id or "") if call.auth.is_app else None
    if app is None:
        raise RestError("ACCESS_DENIED", "Access denied! Application context required", status=403)
    return app


@method("app.info", scope=None)
def app_info(call: Call) -> dict[str, Any]:
    app = current_app(call)
    return {
        "ID": app.id,
        "CODE": app.code,
        "VERSION": app.version,
        "STATUS": call.portal.core.config.app_status,
        "INSTALLED": app.installed,
        "PAYMENT_EXPIRED": "Y" if call.portal.core.config.payment_required else "N",
        "DAYS": None,
        "LANGUAGE_ID": call.portal.core.config.language,
        "LICENSE": "ru_ent250",
        "LICENSE_TYPE": "ent250",
        "LICENSE_FAMILY": "ent",
    }


def _options_arg(call: Call) -> dict[str, Any]:
    options = call.param("options")
    if not isinstance(options, dict) or not options:
        raise RestError("ERROR_ARGUMENT", "options is empty", argument="options")
    return options


@method("app.option.set", scope=None)
def app_option_set(call: Call) -> bool:
    app = current_app(call)
    if not call.auth.is_admin:
        raise RestError(
            "ACCESS_DENIED", "Access denied! Administrator authorization required", status=403
        )
    app.options.update(_options_arg(call))
    return True


@method("app.option.get", scope=None)
def app_option_get(call: Call) -> Any:
    app = current_app(call)
    name = call.param("option")
    if name:
        return app.options.get(str(name))
    return dict(app.options) if app.options else []


@method("user.option.set", scope=None)
def user_option_set(call: Call) -> bool:
    app = current_app(call)
    store = call.portal.core.user_options.setdefault((app.client_id, call.auth.user_id), {})
    store.update(_options_arg(call))
    return True


@method("user.option.get", scope=None)
def user_option_get(call: Call) -> Any:
    app = current_app(call)
    store = call.portal.core.user_options.get((app.client_id, call.auth.user_id), {})
    name = call.param("option")
    if name:
        return store.get(str(name))
    return dict(store) if store else []
