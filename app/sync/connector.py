"""Loop prevention with ``auth_connector``: the app's own writes add no offline rows.

Bitrix24 keeps one offline queue per source. Offline events bound with an
``auth_connector`` key fill that key's queue, and a modifying call that passes the same key
adds nothing to it (api-reference/events/offline-events.md, "How to Avoid Cycles";
event-bind.md ``auth_connector``). ``event.offline.get``/``list`` must pass the key too,
"otherwise, the method will return only events without a source" (event-offline-list.md);
``clear``/``error`` address the same queue. Available on the Professional plan and above:
``feature.get {CODE: rest_auth_connector}`` (common/system/feature-get.md) answers
``{"value": "Y"}``.

The installer asks ``feature.get`` on every install/update and binds the offline events
with :data:`KEY` when it is available (``app.installers.plan_app.plan_events``; it records
``meta["connector"]`` on each offline binding). The rules' client then passes the key on
every modifying call and every ``event.offline.*`` call (:class:`ConnectorClient`),
including the commands inside ``batch``. The docs do not say whether a ``batch``
sub-command's own ``auth_connector`` is honoured; nothing depends on it: a row of our own
write that does get queued is still covered by its online echo and cleared without a read
(``app.sync.offline``), as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KEY = "b24rules"  # one source per app: the queue is per application anyway
FEATURE = "rest_auth_connector"


def tagged(method: str) -> bool:
    """Calls that carry the key: every modifying call and the offline queue's methods."""
    from app.portal.client import is_read_only

    name = method.lower()
    return name.startswith("event.offline.") or not is_read_only(name)


def with_key(method: str, params: Any, key: str) -> Any:
    if not isinstance(params, Mapping) or not tagged(method) or "auth_connector" in params:
        return params
    return {**params, "auth_connector": key}


class ConnectorClient:
    """The portal client, passing ``auth_connector`` where :func:`tagged` says. ``raw`` is
    the client underneath (the catch-up reads the queue of rows without a source with it)."""

    def __init__(self, client: Any, key: str = KEY) -> None:
        self.raw, self.key = client, key

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)

    def call(self, method: str, params: dict | None = None, **kw: Any) -> Any:
        return self.raw.call(method, with_key(method, params or {}, self.key), **kw)

    def call_list_page(self, method: str, params: dict | None = None, **kw: Any) -> Any:
        return self.raw.call_list_page(method, with_key(method, params or {}, self.key), **kw)

    def batch(self, commands: Mapping[str, tuple[str, Any]], **options: Any) -> Any:
        tagged_cmd = {
            label: (method, with_key(method, params, self.key))
            for label, (method, params) in commands.items()
        }
        return self.raw.batch(tagged_cmd, **options)


def active(session: Any, member_id: str) -> str | None:
    """The key the installation's offline events are bound with, or None (bound without one,
    or no offline bindings): recorded by the installer on each offline binding."""
    from sqlalchemy import select

    from app.store.schema_objects import SchemaObject

    # only the offline event rows: every drain asks (portal_context), and loading all of a
    # portal's schema objects (hundreds of fields and stages) for this cost a few ms each time
    metas = session.scalars(
        select(SchemaObject.meta).where(
            SchemaObject.member_id == member_id,
            SchemaObject.kind == "event",
            SchemaObject.code.like("%|offline"),
        )
    )
    keys = {str((meta or {}).get("connector") or "") for meta in metas}
    return KEY if keys == {KEY} else None


def available(answer: Any) -> bool:
    """``feature.get`` answered ``{"value": "Y"}`` (feature-get.md)."""
    if isinstance(answer, Mapping):
        answer = answer.get("value")
    return str(answer or "").upper() == "Y"
