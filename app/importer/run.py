"""The import's imperative shell: read → refresh the mirror → plan → write in batches.

``run_import`` is what ``flask b24 import`` calls. A dry run reads the portal (users, a
full sync of contacts, companies and Objects into the mirror) and reports what would happen
without writing to the portal; it also records the run (state ``checked``), because an
apply is refused for a file and mapping nobody has dry-run. An apply writes chunks of
whole rows, each one ``batch`` request through the gateway (rate limiter and budgets
included), and checkpoints each chunk's outcomes in the store. Run again after a crash, it
resumes: the mirror is refreshed (records the lost chunk created are found by their
``originId``) and rows after the checkpoint are planned again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.importer import columns, commands, sheet
from app.importer.index import PortalIndex
from app.importer.plan import Step, decide, label
from app.importer.rows import Directory, Refusal, Row, parse
from app.objects.keys import OBJECT
from app.rules.changes import normalize
from app.store import imports, mirror

ENTITIES = ("company", "contact", OBJECT)
ROW_COMMANDS = 3  # a row makes at most three commands (company, contact, Object)


class ImportRefused(Exception):
    """The import cannot start (mapping, missing dry run, portal schema); nothing written."""


@dataclass
class Options:
    mode: str = "skip"
    default_manager: int | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    sheet: str | None = None


@dataclass
class Report:
    run_id: int
    dry_run: bool
    mapping: list[str]
    counts: dict[str, int]
    rows: list[tuple[int, str, str]]  # (row, outcome, detail) — refused/skipped/merged/failed
    resumed_from: int = 0


def _users(client: Any) -> list[dict]:
    out: list[dict] = []
    start: int | None = 0
    for _ in range(400):
        page = client.call_list_page(
            "user.get", {"FILTER": {"ACTIVE": True}, "start": start}, priority="bulk"
        )  # a deactivated employee cannot be given clients: "unknown manager"
        out.extend(page.result or [])
        start = page.next
        if not start:
            break
    return out


def _purposes() -> dict[str, str]:
    from app.playbooks.metal import PURPOSES

    return {o.code: o.label.ru for o in PURPOSES}


def _signature(digest: str, mapping: dict[int, str], options: Options) -> str:
    text = json.dumps(
        [digest, sorted(mapping.items()), options.mode, options.default_manager, options.sheet]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def load_index(ctx: Any, *, sync: bool = True, progress: Callable[[int], Any] | None = None):
    """The portal's contacts, companies and Objects, read into the mirror and indexed."""
    from app.objects import comms, index
    from app.sync.full import full_sync

    comms.install()
    index.install()
    found = PortalIndex(ctx.naming)
    for entity in ENTITIES:
        if sync:
            full_sync(ctx, entity, restart=True, progress=progress)
        with ctx.session_factory() as session:
            for row in mirror.records(session, ctx.member_id, entity):
                found.add(entity, row.record_id, normalize(entity, row.data, ctx.naming) or {})
    return found


def _check_schema(ctx: Any) -> None:
    try:
        ctx.naming.entity_type_id(OBJECT)
    except KeyError as exc:
        raise ImportRefused("the metal playbook (its «Объект» process) is not installed") from exc


def run_import(
    ctx: Any,
    path: str | Path,
    options: Options,
    *,
    dry_run: bool,
    progress: Callable[[int], Any] | None = None,
    on_total: Callable[[int], Any] | None = None,
) -> Report:
    """Dry-run or apply (resuming) the import of ``path`` into the portal of ``ctx``."""
    _check_schema(ctx)
    digest = sheet.file_hash(path)
    headers, data = sheet.read(path, options.sheet)
    try:
        mapping = columns.apply_overrides(headers, columns.detect(headers), options.overrides)
        columns.check(mapping)
    except columns.MappingError as exc:
        raise ImportRefused(f"column mapping: {exc}") from exc
    signature = _signature(digest, mapping, options)
    with ctx.session_factory() as session:
        run = imports.find(session, ctx.member_id, signature)
        if run is None and not dry_run:
            raise ImportRefused("run the same command without --apply first (a dry run)")
        if run is not None and run.state == imports.DONE and not dry_run:
            return _report(ctx, run.id, False, headers, mapping)
    directory = Directory(_users(ctx.client))
    parsed = [
        (number, parse(number, cells, mapping, directory, purposes=_purposes(),
                       default_manager=options.default_manager))
        for number, cells in data
    ]  # fmt: skip
    parsed = [(n, p) for n, p in parsed if p is not None]
    index = load_index(ctx)
    with ctx.session_factory() as session:
        run = imports.start(session, ctx.member_id, digest, signature, _options(options, mapping))
        run_id, resumed_from = run.id, run.next_row
        if not dry_run:
            run.state = imports.APPLYING
        session.commit()
    if dry_run:
        return _dry_report(run_id, headers, mapping, parsed, index, options)
    todo = [(n, p) for n, p in parsed if n >= resumed_from]
    if on_total:
        on_total(len(todo))
    _apply(ctx, run_id, todo, index, options, progress)
    with ctx.session_factory() as session:
        run = session.get(imports.ImportRun, run_id)
        run.state = imports.DONE
        session.commit()
    report = _report(ctx, run_id, False, headers, mapping)
    report.resumed_from = resumed_from
    return report


def _options(options: Options, mapping: dict[int, str]) -> dict[str, Any]:
    return {
        "mode": options.mode,
        "default_manager": options.default_manager,
        "mapping": {str(i): f for i, f in mapping.items()},
    }


def _dry_report(run_id, headers, mapping, parsed, index, options) -> Report:
    counts: dict[str, int] = {}
    rows: list[tuple[int, str, str]] = []
    for number, item in parsed:
        if isinstance(item, Refusal):
            outcome, detail = "refused", "; ".join(item.reasons)
        else:
            step = decide(index, item, run_id=run_id, mode=options.mode)
            outcome, detail = step.outcome, step.detail
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome != "created":
            rows.append((number, outcome, detail))
    return Report(run_id, True, columns.describe(headers, mapping), counts, rows)


def _apply(ctx, run_id, todo, index, options, progress) -> None:
    """Write ``todo`` chunk by chunk; each chunk's outcomes and the checkpoint in one commit."""
    pending: list[tuple[int, Row | Refusal, Step | None]] = []
    used = 0
    for number, item in todo:
        if isinstance(item, Row) and used + ROW_COMMANDS > commands.BATCH_LIMIT:
            _flush(ctx, run_id, pending, index, progress)
            pending, used = [], 0
        step = (
            decide(index, item, run_id=run_id, mode=options.mode) if isinstance(item, Row) else None
        )
        used += commands.size(step) if step else 0
        pending.append((number, item, step))
    if pending:
        _flush(ctx, run_id, pending, index, progress)


def _flush(ctx, run_id, pending, index, progress) -> None:
    steps = [s for _n, _i, s in pending if s is not None]
    batch = commands.build(steps, ctx.naming)
    result = ctx.client.batch(batch, priority="bulk") if batch else None
    created: dict[str, int] = {}
    for key, value in (result.results if result else {}).items():
        item = value.get("item") if isinstance(value, dict) else None
        if isinstance(item, dict) and item.get("id"):
            created[key] = int(item["id"])
    index.resolve(created)
    index.forget(
        label(s.number, p.slot) for s in steps for p in s.parts if p.existing is None
    )  # created ones are resolved already; a failed add must not be linked to later
    rows = []
    for number, item, step in pending:
        rows.append(_outcome(number, item, step, created, result.errors if result else {}))
    with ctx.session_factory() as session:
        run = session.get(imports.ImportRun, run_id)
        imports.record_chunk(session, run, rows, pending[-1][0] + 1)
        session.commit()
    if progress:
        progress(len(pending))


def _outcome(number, item, step, created, errors) -> dict[str, Any]:
    if step is None:
        return {
            "row_no": number,
            "outcome": "refused",
            "detail": "; ".join(item.reasons),
            "ids": {},
        }
    ids: dict[str, Any] = {}
    failed = []
    for part in step.parts:
        key = label(number, part.slot)
        for k in (key, key + "u"):
            if k in errors:
                failed.append(f"{part.slot}: {errors[k]}")
        rid = created.get(key) if part.existing is None else part.existing
        if isinstance(rid, str):
            rid = created.get(rid)
        if rid:
            ids[part.slot] = int(rid)
    if failed:
        return {"row_no": number, "outcome": "failed", "detail": "; ".join(failed), "ids": ids}
    return {"row_no": number, "outcome": step.outcome, "detail": step.detail, "ids": ids}


def _report(ctx, run_id, dry_run, headers, mapping) -> Report:
    with ctx.session_factory() as session:
        rows = imports.outcomes(session, run_id)
        counts = imports.counts(session, run_id)
        listed = [(r.row_no, r.outcome, r.detail) for r in rows if r.outcome != "created"]
    return Report(run_id, dry_run, columns.describe(headers, mapping), counts, listed)


def write_report(report: Report, path: str | Path) -> None:
    """The rows that were not simply created, as a CSV a spreadsheet opens (UTF-8 with BOM)."""
    import csv

    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        out = csv.writer(handle)
        out.writerow(["row", "outcome", "detail"])
        out.writerows(report.rows)


def summary(report: Report) -> Iterable[str]:
    word = "dry run" if report.dry_run else "import"
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "nothing"
    yield f"{word} #{report.run_id}: {counts}"
