"""The bearer a widget frame gets for ``/booking/`` and ``/objects/``, issued from the store.

Exactly what ``app.handlers.widgets`` hands an opened frame: ``app.objects.access.issue``
signed with the installation's page key (``app.widgets._viewer.page_key``). Tests call the
browser APIs with it instead of the application token, which is no credential there.
"""

from __future__ import annotations

from typing import Any

from app.objects import access


def widget_bearer(services: Any, member_id: str, *, ttl: int = access.DEFAULT_TTL) -> str:
    """A valid bearer for ``member_id``'s active installation (AssertionError if none)."""
    key = access.key_of(services, member_id)
    assert key is not None, f"no active installation with an application token: {member_id}"
    return access.issue(key, member_id, ttl=ttl)


def bearer_headers(services: Any, member_id: str) -> dict[str, str]:
    """``Authorization`` headers carrying :func:`widget_bearer`."""
    return {"Authorization": f"Bearer {widget_bearer(services, member_id)}"}


def viewer_headers(services: Any, member_id: str, user_id: int, *, admin: bool = False):
    """``Authorization`` headers carrying a page bearer naming ``user_id`` — what a tab gets
    when the portal told who is looking (``app.widgets._viewer.naming_bearer``)."""
    from app.widgets._viewer import Viewer, issue_bearer

    key = access.key_of(services, member_id)
    assert key is not None, f"no active installation with an application token: {member_id}"
    who = Viewer(user_id, "", admin)
    return {"Authorization": f"Bearer {issue_bearer(key, member_id, who)}"}
