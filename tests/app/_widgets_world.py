"""Shared setup of the widget tests: an active installation, a frame POST helper."""

from __future__ import annotations

import json
from typing import Any

from app.store import installations
from app.store.schema_objects import Known, record
from app.token_proof import cache_key

MEMBER = "widgets-member-0001"
DOMAIN = "acme.bitrix24.ru"
APP_TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
AUTH_ID = "user-access-token"  # the viewing user's token in open_widget's frame form
OBJECT_ETID = 1030


def install(
    svc,
    *,
    member=MEMBER,
    domain=DOMAIN,
    playbooks=("metal",),
    status="active",
    app_token=APP_TOKEN,
    proved_auth_id: str | None = AUTH_ID,
) -> None:
    """An installation row as the installer leaves it, plus the Object smart process.

    ``proved_auth_id``: a user token the gate proved with ``app.info`` moments ago (its
    proof cache, ``app.token_proof``), so frames opened with it render without a portal —
    ``acme.bitrix24.ru`` is not reachable from here. The proof itself is tested against
    the emulator (tests/app/test_widgets_gate.py); None leaves the cache empty."""
    with svc.session.begin() as s:
        installations.upsert_verified(
            s,
            member,
            domain=domain,
            client_endpoint=f"https://{domain}/rest/",
            auth_mode="oauth",
            access_token="stored-access",
            refresh_token="stored-refresh",
            application_token=app_token,
            status=status,
            playbooks=list(playbooks),
        )
        record(
            s,
            member,
            [Known("type", "metal.object", "7", None, True, {"entityTypeId": OBJECT_ETID})],
        )
    if proved_auth_id:
        svc.redis.set(cache_key("widget", member, proved_auth_id), b"1", ex=600)


def open_widget(
    client,
    code: str,
    *,
    placement: str,
    options: Any = None,
    domain=DOMAIN,
    query: dict | None = None,
    **form: Any,
):
    """POST the §3.2 frame form the portal sends when a placement opens."""
    body = {
        "AUTH_ID": AUTH_ID,
        "AUTH_EXPIRES": "3600",
        "REFRESH_ID": "user-refresh-token",
        "SERVER_ENDPOINT": "https://oauth.bitrix.info/rest/",
        "APPLICATION_TOKEN": APP_TOKEN,
        "member_id": MEMBER,
        "status": "L",
        "PLACEMENT": placement,
        "PLACEMENT_OPTIONS": options if isinstance(options, str) else json.dumps(options or {}),
    }
    body.update(form)
    body = {k: v for k, v in body.items() if v is not None}
    args = {"DOMAIN": domain, "PROTOCOL": "1", "LANG": "ru", "APP_SID": "f" * 32}
    args.update(query or {})
    args = {k: v for k, v in args.items() if v is not None}
    return client.post(f"/widgets/{code}", query_string=args, data=body)


READY_LEAD = {
    "title": "Кухня",
    "UF_CRM_KT_BUDGET": 300000,
    "UF_CRM_KT_MATERIAL": "mdf",
    "UF_CRM_KT_ADDRESS": "ул. Мира, 1",
    "UF_CRM_KT_HOUSE_TYPE": "panel",
    "UF_CRM_KT_KITCHEN_TYPE": "corner",
    "UF_CRM_KT_COUNTERTOP": "камень",
    "UF_CRM_KT_APRON": "стекло",
    "UF_CRM_KT_APPLIANCES": "духовка",
    "UF_CRM_KT_BUYER": "family",
    "UF_CRM_KT_URGENCY": "month",
    # the catalogue and proposal go by e-mail: a lead past «Каталог и КП» has one
    "fm": [{"typeId": "EMAIL", "value": "client@example.ru"}],
}


def mirror_lead(services: Any, member: str, lead_id: int, **fields: Any) -> None:
    """A lead the portal has (its mirror copy), ready for «Замер назначен»: bookings are
    accepted only for leads of that portal."""
    from app.store import mirror

    with services.session.begin() as s:
        mirror.put(s, member, "lead", lead_id, {"id": lead_id, **READY_LEAD, **fields})
