"""The spreadsheet import from the settings page: an uploaded file, its column mapping, and
the dry run / run as RQ jobs whose progress the page polls (the CLI's ``flask b24 import``
does the same in a terminal; both go through :func:`app.importer.run.run_import`).

* An upload is kept under ``<var_dir>/imports/<portal>/<sha256>.xlsx``: the file's hash is
  its name, so uploading the same file again is the same upload and the same import run
  (the run's signature is the file hash + mapping + options, ``app.store.imports``).
  ``var_dir`` must be shared by the web app and the workers (one host, or a shared volume).
* A job's progress lives in a Redis hash (state, done, total, the report or the error), for
  :data:`PROGRESS_TTL`; the import's own checkpoint and row outcomes stay in the SQL store,
  so a run killed halfway resumes when the page asks for it again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.importer import columns, sheet
from app.importer.run import Options

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024
PROGRESS_TTL = 7 * 86400
REPORT_ROWS = 200  # rows shown on the page; the CSV has them all
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class UploadError(ValueError):
    """A file or a request the import cannot use; the message is for the admin."""


def _folder(var_dir: str | Path, member_id: str) -> Path:
    # the portal's folder is named by a hash: nothing from a request becomes a path
    return Path(var_dir) / "imports" / hashlib.sha256(member_id.encode()).hexdigest()[:24]


def path_of(var_dir: str | Path, member_id: str, digest: str) -> Path:
    """The stored upload ``digest`` of the portal (UploadError when there is none)."""
    if not _DIGEST.match(digest or ""):
        raise UploadError("unknown upload")
    path = _folder(var_dir, member_id) / f"{digest}.xlsx"
    if not path.is_file():
        raise UploadError("unknown upload")
    return path


def save(var_dir: str | Path, member_id: str, data: bytes) -> str:
    """Keep an uploaded file after checking it reads as a spreadsheet; its sha256."""
    if not data:
        raise UploadError("the file is empty")
    if len(data) > MAX_BYTES:
        raise UploadError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    digest = hashlib.sha256(data).hexdigest()
    folder = _folder(var_dir, member_id)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{digest}.xlsx"
    if not final.exists():
        partial = folder / f"{digest}.part.xlsx"  # openpyxl goes by the extension
        partial.write_bytes(data)
        try:
            _headers(partial, None)
        except UploadError:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(final)  # atomic: a half-written file is never an upload
    return digest


def _headers(path: Path, sheet_name: str | None) -> list[object]:
    try:
        headers, _rows = sheet.read(path, sheet_name)
    except sheet.SheetError as exc:
        # the reason without our file path
        raise UploadError(str(exc).replace(str(path), "the file")) from None
    return headers


@dataclass(frozen=True)
class Mapping:
    headers: list[object]
    mapping: dict[int, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "columns": [
                {"column": i, "header": h, "field": self.mapping.get(i)}
                for i, h in enumerate(self.headers)
                if h not in (None, "")
            ],
            "lines": columns.describe(self.headers, self.mapping),
            "fields": list(columns.FIELDS),
        }


def mapping_of(path: Path, overrides: dict[str, str], sheet_name: str | None) -> Mapping:
    """The detected mapping corrected by ``overrides``; UploadError when it is unusable."""
    headers = _headers(path, sheet_name)
    try:
        found = columns.apply_overrides(headers, columns.detect(headers), overrides)
        columns.check(found)
    except columns.MappingError as exc:
        raise UploadError(str(exc).replace("--map", "the column choice")) from None
    return Mapping(headers, found)


def options_of(body: dict[str, Any]) -> Options:
    """Import options from a validated request body."""
    return Options(
        mode=body.get("mode") or "skip",
        default_manager=body.get("default_manager"),
        overrides=dict(body.get("overrides") or {}),
        sheet=body.get("sheet") or None,
    )


def job_key(member_id: str, digest: str, options: Options, dry_run: bool) -> str:
    """The same file, options and kind of run → the same job (a double click is one job)."""
    text = json.dumps(
        [member_id, digest, sorted(options.overrides.items()), options.mode,
         options.default_manager, options.sheet, dry_run]
    )  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _progress_key(member_id: str, key: str) -> str:
    return f"b24:import:progress:{member_id}:{key}"


def progress(redis, member_id: str, key: str) -> dict[str, Any] | None:
    """What the page shows of job ``key``: state, done, total, report or error."""
    raw = redis.hgetall(_progress_key(member_id, key))
    if not raw:
        return None
    data = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in raw.items()
    }
    out: dict[str, Any] = {
        "state": data.get("state", QUEUED),
        "dry_run": data.get("dry_run") == "1",
        "done": int(data.get("done") or 0),
        "total": int(data.get("total") or 0),
    }
    if data.get("report"):
        out["report"] = json.loads(data["report"])
    if data.get("error"):
        out["error"] = data["error"]
    return out


def mark(redis, member_id: str, key: str, **values: Any) -> None:
    name = _progress_key(member_id, key)
    redis.hset(name, mapping={k: str(v) for k, v in values.items()})
    redis.expire(name, PROGRESS_TTL)


def _report_json(report) -> dict[str, Any]:
    return {
        "run_id": report.run_id,
        "dry_run": report.dry_run,
        "mapping": report.mapping,
        "counts": report.counts,
        "rows": [list(r) for r in report.rows[:REPORT_ROWS]],
        "more_rows": max(0, len(report.rows) - REPORT_ROWS),
        "resumed_from": report.resumed_from,
    }


def run_upload(
    member_id: str, key: str, digest: str, body: dict[str, Any], dry_run: bool, user_id: int
) -> dict[str, Any]:
    """RQ job: dry-run or run the import of an upload, reporting progress in Redis."""
    from app.importer.run import ImportRefused, run_import
    from app.portal.errors import PortalError
    from app.services import current
    from app.sync.context import portal_context

    services = current()
    redis = services.redis
    mark(redis, member_id, key, state=RUNNING, done=0, total=0, error="")
    log.info("import %s (dry run %s) started by user %s", key, dry_run, user_id)
    try:
        path = path_of(services.settings.var_dir, member_id, digest)
        ctx = portal_context(services, member_id)
        report = run_import(
            ctx,
            path,
            options_of(body),
            dry_run=dry_run,
            progress=lambda n: redis.hincrby(_progress_key(member_id, key), "done", n),
            on_total=lambda n: mark(redis, member_id, key, total=n),
        )
    except (ImportRefused, UploadError, sheet.SheetError) as exc:
        mark(redis, member_id, key, state=FAILED, error=str(exc))
        return {"state": FAILED}
    except PortalError as exc:
        text = f"the portal refused ({exc}); start the import again to resume"
        mark(redis, member_id, key, state=FAILED, error=text)
        return {"state": FAILED}
    mark(redis, member_id, key, state=DONE, report=json.dumps(_report_json(report)))
    log.info("import %s done: %s", key, report.counts)
    return {"state": DONE, "run_id": report.run_id}
