"""Basic methods: ``profile``, ``user.admin``, ``scope``, ``methods``, ``feature.get``, ``server.time``."""

from __future__ import annotations

from typing import Any

from b24emu.auth import scope_allows
from b24emu.core_state import ALL_SCOPES
from b24emu.registry import METHODS, Call, RestError, method

FEATURES = {"rest_offline_extended": "Y", "rest_auth_connector": "Y"}


@method("profile", scope=None)
def profile(call: Call) -> dict[str, Any]:
    user = call.portal.users.get(call.auth.user_id) or {}
    sign = -1 if call.portal.timezone_offset.startswith("-") else 1
    hours, minutes = call.portal.timezone_offset.lstrip("+-").split(":")
    return {
        "ID": str(call.auth.user_id),
        "ADMIN": call.auth.is_admin,
        "NAME": user.get("NAME", ""),
        "LAST_NAME": user.get("LAST_NAME", ""),
        "PERSONAL_GENDER": user.get("PERSONAL_GENDER", ""),
        "TIME_ZONE": user.get("TIME_ZONE", ""),
        "TIME_ZONE_OFFSET": sign * (int(hours) * 3600 + int(minutes) * 60),
    }


@method("user.admin", scope=None)
def user_admin(call: Call) -> bool:
    """Is the calling user a portal administrator (api-reference/common/users/user-admin.md):
    any user may call it; ``true``/``false``, no errors of its own."""
    return bool(call.auth.is_admin)


@method("scope", scope=None)
def scope(call: Call) -> list[str]:
    """Granted scopes; with ``full`` every scope the portal knows."""
    if call.param("full"):
        return list(ALL_SCOPES)
    return sorted(s for s in call.auth.scopes if s != "basic")


@method("methods", scope=None)
def methods(call: Call) -> list[str]:
    """Methods available to the caller (``full`` = all), or of one ``scope``."""
    wanted = call.param("scope")
    result = []
    for name, spec in sorted(METHODS.items()):
        if wanted is not None:
            if (spec.scope or "") != wanted:
                continue
        elif not call.param("full") and not scope_allows(spec, call.auth):
            continue
        result.append(name)
    return result


@method("feature.get", scope=None)
def feature_get(call: Call) -> dict[str, str]:
    code = call.param("CODE")
    if not code:
        raise RestError("ERROR_ARGUMENT", "Argument 'CODE' is null or empty", argument="CODE")
    return {"value": FEATURES.get(str(code), "N")}


@method("server.time", scope=None)
def server_time(call: Call) -> str:
    from b24emu.server import iso

    return iso(call.portal, call.portal.clock.now())
