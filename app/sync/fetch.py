"""Per-event fetch: the current record and the related records its rules need, one batch.

Related records are chained with ``$result[rec][item][...]`` placeholders, so the record
and, say, its company and contacts arrive in a single round trip. A record that no longer
exists (the sub-call fails with a not-found error) comes back as ``None`` — the diff turns
that into a ``deleted`` change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.rules.batching import run_batch
from app.rules.naming import Naming
from app.sync import tasks
from app.sync.events_map import ACTIVITY, TASK

REC = "rec"
# the record's responsible as ``user.get`` returns it (WORK_POSITION, UF_DEPARTMENT…), read in
# the record's own batch: routing tables match on the responsible's position
RESPONSIBLE_USER = "responsible_user"
# a client's orders read in the record's own batch (newest 50): for a deal, the deals of its
# contact; for a contact, its own deals
CLIENT_DEALS = "client_deals"
CONTACT_DEALS = "contact_deals"
# an activity's owner's other open activities (the "next step" check)
OWNER_OPEN_ACTIVITIES = "owner_open_activities"
# a deal's own open activities (the "next step" check on a deal's creation and moves)
DEAL_OPEN_ACTIVITIES = "deal_open_activities"
DEAL_SELECT = [
    "id",
    "stageId",
    "categoryId",
    "opportunity",
    "createdTime",
    "movedTime",
    "closedate",
]


@dataclass(frozen=True)
class Fetched:
    record: dict[str, Any] | None
    related: dict[str, Any] = field(default_factory=dict)


def related_commands(needs: Iterable[str], naming: Naming) -> dict[str, tuple[str, dict]]:
    """Batch commands for the named related records (see ``Rule.needs``)."""
    out: dict[str, tuple[str, dict]] = {}
    for need in sorted(set(needs)):
        if need == "company":
            out[need] = (
                "crm.item.get",
                {"entityTypeId": 4, "id": f"$result[{REC}][item][companyId]"},
            )
        elif need == "contacts":
            params = {
                "entityTypeId": 3,
                "filter": {"@id": f"$result[{REC}][item][contactIds]"},
                "start": -1,
            }
            out[need] = ("crm.item.list", params)
        elif need == "owner":  # an activity's CRM record
            params = {
                "entityTypeId": f"$result[{REC}][OWNER_TYPE_ID]",
                "id": f"$result[{REC}][OWNER_ID]",
            }
            out[need] = ("crm.item.get", params)
        elif need == RESPONSIBLE_USER:
            out[need] = ("user.get", {"ID": f"$result[{REC}][item][assignedById]"})
        elif need == OWNER_OPEN_ACTIVITIES:
            params = {
                "filter": {
                    "OWNER_TYPE_ID": f"$result[{REC}][OWNER_TYPE_ID]",
                    "OWNER_ID": f"$result[{REC}][OWNER_ID]",
                    "COMPLETED": "N",
                },
                "select": ["ID", "OWNER_TYPE_ID", "OWNER_ID", "DEADLINE"],
            }
            out[need] = ("crm.activity.list", params)
        elif need == DEAL_OPEN_ACTIVITIES:
            params = {
                "filter": {
                    "OWNER_TYPE_ID": 2,
                    "OWNER_ID": f"$result[{REC}][item][id]",
                    "COMPLETED": "N",
                },
                "select": ["ID", "OWNER_TYPE_ID", "OWNER_ID", "DEADLINE"],
            }
            out[need] = ("crm.activity.list", params)
        elif need in (CLIENT_DEALS, CONTACT_DEALS):
            ref = "contactId" if need == CLIENT_DEALS else "id"
            params = {
                "entityTypeId": 2,
                "filter": {"contactId": f"$result[{REC}][item][{ref}]"},
                "select": DEAL_SELECT,
                "order": {"id": "DESC"},  # crm-item-list.md: ASC or DESC
                "start": -1,
            }
            out[need] = ("crm.item.list", params)
        elif need.startswith("parent:"):
            parent = need.split(":", 1)[1]
            etid = naming.entity_type_id(parent)
            out[need] = (
                "crm.item.get",
                {"entityTypeId": etid, "id": f"$result[{REC}][item][parentId{etid}]"},
            )
    return out


def fetch_record(
    client: Any, naming: Naming, entity: str, record_id: int, needs: Iterable[str] = ()
) -> Fetched:
    """The record (raw crm.item dict; for activities the legacy UPPER dict; for tasks the
    :func:`app.sync.tasks.snapshot`) plus related records, in one batch."""
    if entity == TASK:  # related CRM records come from the mirror (app.sync.tasks.BOUND)
        cmd = {REC: ("tasks.task.get", {"taskId": int(record_id), "select": tasks.SELECT})}
        needs = ()
    elif entity == ACTIVITY:
        cmd = {REC: ("crm.activity.get", {"id": int(record_id)})}
    else:
        etid = naming.entity_type_id(entity)
        cmd = {REC: ("crm.item.get", {"entityTypeId": etid, "id": int(record_id)})}
    cmd.update(related_commands(needs, naming))
    results, errors = run_batch(client, cmd)
    if REC in errors:
        if errors[REC].not_found or (entity == TASK and tasks.is_gone_error(errors[REC])):
            return Fetched(None)
        raise FetchFailed(f"{entity} {record_id}: {errors[REC]}")
    if entity == TASK:
        value = results.get(REC)
        return Fetched(tasks.snapshot(value.get("task") if isinstance(value, dict) else None))
    record = _item(results.get(REC)) if entity != ACTIVITY else _plain(results.get(REC))
    related: dict[str, Any] = {}
    for name in cmd:
        if name == REC:
            continue
        value = results.get(name)
        if name in (
            "contacts",
            CLIENT_DEALS,
            CONTACT_DEALS,
            OWNER_OPEN_ACTIVITIES,
            DEAL_OPEN_ACTIVITIES,
        ):
            related[name] = _items(value)
        elif name == RESPONSIBLE_USER:
            users = _items(value)
            related[name] = users[0] if users and isinstance(users[0], dict) else None
        else:
            related[name] = _item(value)
    return Fetched(record, related)


class FetchFailed(Exception):
    """The record could not be read for a reason other than "it does not exist"."""


def _item(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict) and isinstance(value.get("item"), dict):
        return value["item"]
    return None


def _plain(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) and value else None


def _items(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict) and isinstance(value.get("items"), list):
        return value["items"]
    if isinstance(value, list):
        return value
    return []
