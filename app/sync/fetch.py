"""Per-event fetch: the current record and the related records its rules need, one batch.

Related records are chained with ``$result[rec][item][...]`` placeholders, so the record
and, say, its company and contacts arrive in a single round trip. A record that no longer
exists (the sub-call fails with a not-found error) comes back as ``None`` — the diff turns
that into a ``deleted`` change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.rules.batching import BATCH_LIMIT, run_batch
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


def related_commands(
    needs: Iterable[str], naming: Naming, rec: str = REC
) -> dict[str, tuple[str, dict]]:
    """Batch commands for the named related records (see ``Rule.needs``), chained to the
    record's command labelled ``rec``."""
    out: dict[str, tuple[str, dict]] = {}
    for need in sorted(set(needs)):
        if need == "company":
            out[need] = (
                "crm.item.get",
                {"entityTypeId": 4, "id": f"$result[{rec}][item][companyId]"},
            )
        elif need == "contacts":
            params = {
                "entityTypeId": 3,
                "filter": {"@id": f"$result[{rec}][item][contactIds]"},
                "start": -1,
            }
            out[need] = ("crm.item.list", params)
        elif need == "owner":  # an activity's CRM record
            params = {
                "entityTypeId": f"$result[{rec}][OWNER_TYPE_ID]",
                "id": f"$result[{rec}][OWNER_ID]",
            }
            out[need] = ("crm.item.get", params)
        elif need == RESPONSIBLE_USER:
            out[need] = ("user.get", {"ID": f"$result[{rec}][item][assignedById]"})
        elif need == OWNER_OPEN_ACTIVITIES:
            params = {
                "filter": {
                    "OWNER_TYPE_ID": f"$result[{rec}][OWNER_TYPE_ID]",
                    "OWNER_ID": f"$result[{rec}][OWNER_ID]",
                    "COMPLETED": "N",
                },
                "select": ["ID", "OWNER_TYPE_ID", "OWNER_ID", "DEADLINE"],
            }
            out[need] = ("crm.activity.list", params)
        elif need == DEAL_OPEN_ACTIVITIES:
            params = {
                "filter": {
                    "OWNER_TYPE_ID": 2,
                    "OWNER_ID": f"$result[{rec}][item][id]",
                    "COMPLETED": "N",
                },
                "select": ["ID", "OWNER_TYPE_ID", "OWNER_ID", "DEADLINE"],
            }
            out[need] = ("crm.activity.list", params)
        elif need in (CLIENT_DEALS, CONTACT_DEALS):
            ref = "contactId" if need == CLIENT_DEALS else "id"
            params = {
                "entityTypeId": 2,
                "filter": {"contactId": f"$result[{rec}][item][{ref}]"},
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
                {"entityTypeId": etid, "id": f"$result[{rec}][item][parentId{etid}]"},
            )
    return out


def fetch_record(
    client: Any, naming: Naming, entity: str, record_id: int, needs: Iterable[str] = ()
) -> Fetched:
    """The record (raw crm.item dict; for activities the legacy UPPER dict; for tasks the
    :func:`app.sync.tasks.snapshot`) plus related records, in one batch."""
    cmd, names = _record_commands(naming, entity, record_id, needs, REC)
    results, errors = run_batch(client, cmd)
    return _parse(entity, record_id, results, errors, names, REC)


def fetch_records(
    client: Any, naming: Naming, wanted: Sequence[tuple[str, int, Iterable[str]]]
) -> dict[tuple[str, int], Fetched | Exception]:
    """:func:`fetch_record` for many records at once: each record's commands (record plus
    related, chained) stay in one batch, batches are filled up to 50 commands — N records
    cost about N × (1 + related) / 50 requests. A record that cannot be read comes back as
    its :class:`FetchFailed`; a batch refused whole raises (nothing was read)."""
    planned = []
    for n, (entity, record_id, needs) in enumerate(wanted):
        rec = f"r{n}"
        cmd, names = _record_commands(naming, entity, record_id, needs, rec)
        planned.append((entity, int(record_id), rec, cmd, names))
    out: dict[tuple[str, int], Fetched | Exception] = {}
    chunk: list = []
    size = 0
    for plan in [*planned, None]:
        if chunk and (plan is None or size + len(plan[3]) > BATCH_LIMIT):
            cmd = {label: c for p in chunk for label, c in p[3].items()}
            results, errors = run_batch(client, cmd)
            for entity, record_id, rec, _, names in chunk:
                try:
                    out[(entity, record_id)] = _parse(
                        entity, record_id, results, errors, names, rec
                    )
                except FetchFailed as exc:
                    out[(entity, record_id)] = exc
            chunk, size = [], 0
        if plan is not None:
            chunk.append(plan)
            size += len(plan[3])
    return out


def _record_commands(
    naming: Naming, entity: str, record_id: int, needs: Iterable[str], rec: str
) -> tuple[dict[str, tuple[str, dict]], dict[str, str]]:
    """The batch commands reading one record (label ``rec``) and its related records
    (labels ``rec_<n>``), and label → need name."""
    if entity == TASK:  # related CRM records come from the mirror (app.sync.tasks.BOUND)
        cmd = {rec: ("tasks.task.get", {"taskId": int(record_id), "select": tasks.SELECT})}
        needs = ()
    elif entity == ACTIVITY:
        cmd = {rec: ("crm.activity.get", {"id": int(record_id)})}
    else:
        etid = naming.entity_type_id(entity)
        cmd = {rec: ("crm.item.get", {"entityTypeId": etid, "id": int(record_id)})}
    names: dict[str, str] = {}
    for n, (need, command) in enumerate(related_commands(needs, naming, rec).items()):
        label = need if rec == REC else f"{rec}_{n}"
        cmd[label] = command
        names[label] = need
    return cmd, names


def _parse(
    entity: str, record_id: int, results: dict, errors: dict, names: dict[str, str], rec: str
) -> Fetched:
    if rec in errors:
        if errors[rec].not_found or (entity == TASK and tasks.is_gone_error(errors[rec])):
            return Fetched(None)
        raise FetchFailed(f"{entity} {record_id}: {errors[rec]}")
    if entity == TASK:
        value = results.get(rec)
        return Fetched(tasks.snapshot(value.get("task") if isinstance(value, dict) else None))
    record = _item(results.get(rec)) if entity != ACTIVITY else _plain(results.get(rec))
    related: dict[str, Any] = {}
    for label, name in names.items():
        value = results.get(label)
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
