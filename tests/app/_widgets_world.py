"""Shared setup of the widget tests: an active installation, a frame POST helper."""

from __future__ import annotations

import json
from typing import Any

from app.store import installations
from app.store.schema_objects import Known, record

MEMBER = "widgets-member-0001"
DOMAIN = "acme.bitrix24.ru"
APP_TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
OBJECT_ETID = 1030


def install(
    svc, *, member=MEMBER, domain=DOMAIN, playbooks=("metal",), status="active", app_token=APP_TOKEN
) -> None:
    """An installation row as the installer leaves it, plus the Object smart process."""
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
        "AUTH_ID": "user-access-token",
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
