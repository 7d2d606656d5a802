"""The emulator's CRM: items of every entity type, stages, pipelines, smart-process types,
user fields, activities, timeline comments, tasks, notifications and automation triggers.

Create one per portal: ``CrmStore(portal)`` (it sets ``portal.crm``). The REST methods in
``b24emu/methods/crm_*.py``, ``tasks.py``, ``im.py``, ``users.py`` are thin layers over it;
the ``/_emu/`` admin surface and tests call the same functions directly. Every write emits
the portal's events (``portal.emit``) with the acting user, and stage entries call
``portal.stage_entered`` (robots), exactly like a REST call would.

Items (internal rows: camelCase system keys, user fields under UPPER ``UF_CRM_*`` keys,
datetimes as unix timestamps, dates as ``YYYY-MM-DD``, ``fm`` = multifield list; rows are
sparse — an unset field is an absent key, so read with ``row.get``)::

    store.add_item(etid, fields_camel, user_id) -> row          # like crm.item.add
    store.update_item(etid, item_id, fields_camel, user_id) -> row
    store.delete_item(etid, item_id, user_id)
    store.get_item(etid, item_id) -> row                        # NotFoundError
    store.items(etid) -> [row, ...]                             # id order
    store.view(etid) -> EntityView                              # fields, UFs, aliases

``fields_camel`` takes what ``crm.item.add`` takes: UF keys as camel aliases or UPPER names,
``fm`` as a list of ``{"typeId","valueType","value"}`` (add) or keyed object (update).
Printing: ``store.api_item(etid, row)`` (exactly what ``crm.item.get`` returns), or
``b24emu.crm.render.render_item(view, row, offset)`` / ``render_legacy(...)``;
``store.document_field(etid, item_id, "TITLE")`` = one field in legacy typing (robot
``{=Document:…}`` templates). Lists: ``b24emu.crm.query.query(store, view, filter, order,
start, legacy=...)`` → ``ListPage`` of rows (``>id``/``<id`` + id order bisect the index).

Seeding::

    store.bulk_seed(etid, [fields_camel, ...], user_id=1) -> [ids]  # fast, no events
    store.incoming_lead("webform"|"email"|"call"|"manual", user_id=1,
                        title=..., name=..., phone=..., email=..., **more_fields) -> row
                        # mode 2 (simple CRM): creates a contact + deal, returns the deal

Stage rules: ``store.require_on_stage(etid, field, stage_id, category_id=None)`` makes a
field required from that stage on (the UI's "required from stage" setting).

Entity types: 1 lead, 2 deal, 3 contact, 4 company, 31 new invoice (a built-in smart process,
pipeline made on first use), smart processes by their ``entityTypeId``.

Configuration: ``store.add_type(fields, user_id)`` / ``update_type`` / ``delete_type``
(smart processes; creates the default pipeline and stages), ``store.add_category(etid, fields)``,
``store.statuses`` (``Statuses``: ``list_of(entity_id)``, ``first_stage(etid, cat)``),
``store.add_userfield(entity_id, data)`` (userfieldconfig keys), ``store.mode`` (1 classic,
2 simple), ``store.default_currency``.

Other records (plain dicts with UPPER keys unless noted)::

    store.activities {id: row}      store.add_activity(fields, user_id)
    store.comments {id: row}        store.add_comment(etid, owner_id, text, user_id)
    store.tasks {id: row}           store.add_task(fields, user_id) / update_task(...)
    store.checklist {id: row}       store.add_checklist_item(task_id, fields, user_id)
    store.notifications [row]       store.notify(to_user, message, kind="system"|"personal",
                                                 from_user=...)  (lower-case keys:
                                    id, type, to_user_id, from_user_id, message, tag, ...)
    store.notifications_for(user_id)
    store.triggers {code: {...}}    store.place_trigger(etid, stage_id, code, category_id=None)
                                    store.execute_trigger(code, etid, item_id, user_id) -> moved?
    store.comms.find("PHONE"|"EMAIL", value) -> {(etid, id)}   # duplicate index
"""

from b24emu.crm.errors import CrmError, FieldValueError, NotFoundError
from b24emu.crm.store import CrmStore

__all__ = ["CrmError", "CrmStore", "FieldValueError", "NotFoundError"]
