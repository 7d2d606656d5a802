"""API of the settings page's import section (metal: existing clients from Excel, issue #17).

Every route needs the page bearer of a portal administrator (``app.handlers.page_api``,
``admin=True``): an import writes companies, contacts and Objects into the portal. Errors
are JSON ``{"error"}`` a person can act on; the jobs log who started them.

* ``POST /imports/<m>/uploads`` (multipart ``file``) → 201 ``{"upload", "columns",
  "lines", "fields"}`` — the stored file and the detected column mapping
* ``POST /imports/<m>/uploads/<upload>/mapping`` ``{"overrides": {header: field|"-"},
  "sheet"}`` → the corrected mapping, or 400 saying what is wrong with it
* ``POST /imports/<m>/uploads/<upload>/dry-run`` and ``…/run`` ``{"overrides", "mode":
  "skip"|"merge", "default_manager", "sheet"}`` → 202 ``{"job"}``; a run of a file and
  options nobody has dry-run is 409
* ``GET  /imports/<m>/jobs/<job>`` → ``{"state", "done", "total", "report"|"error"}``
* ``GET  /imports/<m>/runs/<run_id>/report.csv`` → every row not simply created, with why
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, g, jsonify, request
from marshmallow import Schema, ValidationError, fields, validate

from app.handlers import services as current_services
from app.handlers.bounds import Id
from app.handlers.page_api import page_api, refuse
from app.importer import upload
from app.importer.columns import FIELDS, IGNORE

bp = Blueprint("imports_api", __name__)


class OptionsBody(Schema):
    overrides = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 200)),
        values=fields.String(validate=validate.OneOf([*FIELDS, IGNORE])),
        load_default=dict,
        validate=validate.Length(max=100),
    )
    mode = fields.String(load_default="skip", validate=validate.OneOf(["skip", "merge"]))
    default_manager = Id(load_default=None)
    sheet = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


def _body():
    try:
        return OptionsBody().load(request.get_json(silent=True) or {}), None
    except ValidationError as exc:
        return None, (jsonify({"error": exc.messages}), 400)


def _var_dir() -> str:
    return current_services().settings.var_dir


@bp.post("/imports/<member_id>/uploads")
@page_api(admin=True)
def upload_file(member_id: str):
    request.max_content_length = upload.MAX_BYTES + 64 * 1024  # the form around the file
    sent = request.files.get("file")
    if sent is None:
        return refuse(400, "Выберите файл .xlsx", "Choose an .xlsx file")
    try:
        digest = upload.save(_var_dir(), member_id, sent.read(upload.MAX_BYTES + 1))
        found = upload.mapping_of(upload.path_of(_var_dir(), member_id, digest), {}, None)
        described = found.as_json()
    except upload.UploadError as exc:
        return jsonify({"error": str(exc)}), 400
    return jsonify({"upload": digest, "name": sent.filename or "", **described}), 201


@bp.post("/imports/<member_id>/uploads/<digest>/mapping")
@page_api(admin=True)
def mapping(member_id: str, digest: str):
    body, error = _body()
    if error:
        return error
    try:
        path = upload.path_of(_var_dir(), member_id, digest)
        found = upload.mapping_of(path, body["overrides"], body["sheet"])
    except upload.UploadError as exc:
        status = 404 if str(exc) == "unknown upload" else 400
        return jsonify({"error": str(exc)}), status
    return jsonify(found.as_json())


@bp.post("/imports/<member_id>/uploads/<digest>/dry-run")
@page_api(admin=True)
def dry_run(member_id: str, digest: str):
    return _start(member_id, digest, dry_run=True)


@bp.post("/imports/<member_id>/uploads/<digest>/run")
@page_api(admin=True)
def run(member_id: str, digest: str):
    return _start(member_id, digest, dry_run=False)


def _start(member_id: str, digest: str, *, dry_run: bool):
    body, error = _body()
    if error:
        return error
    try:
        path = upload.path_of(_var_dir(), member_id, digest)
        found = upload.mapping_of(path, body["overrides"], body["sheet"])
    except upload.UploadError as exc:
        status = 404 if str(exc) == "unknown upload" else 400
        return jsonify({"error": str(exc)}), status
    options = upload.options_of(body)
    if not dry_run and not _dry_run_done(member_id, digest, found.mapping, options):
        return refuse(
            409,
            "Сначала сделайте пробный прогон с этим файлом и настройками",
            "Dry-run this file with these settings first",
        )
    key = upload.job_key(member_id, digest, options, dry_run)
    _enqueue(member_id, key, digest, body, dry_run)
    return jsonify({"job": key}), 202


def _dry_run_done(member_id, digest, found_mapping, options) -> bool:
    from app.importer.run import _signature
    from app.store import imports

    signature = _signature(digest, found_mapping, options)
    with current_services().session() as session:
        return imports.find(session, member_id, signature) is not None


def _enqueue(member_id: str, key: str, digest: str, body: dict, dry_run: bool) -> None:
    """Queue the job unless it is already waiting or running (a double click)."""
    from rq.job import Job, JobStatus

    from app.queues import enqueue

    services = current_services()
    job_id = f"import-{key}"
    try:
        busy = Job.fetch(job_id, connection=services.redis).get_status() in (
            JobStatus.QUEUED,
            JobStatus.STARTED,
            JobStatus.DEFERRED,
            JobStatus.SCHEDULED,
        )
    except Exception:  # noqa: BLE001 - no such job: queue it
        busy = False
    if busy:
        return
    upload.mark(services.redis, member_id, key, state=upload.QUEUED, dry_run=int(dry_run))
    enqueue(
        services,
        "bulk",
        "app.importer.upload.run_upload",
        member_id,
        key,
        digest,
        dict(body),
        dry_run,
        g.viewer.user_id,
        job_id=job_id,
        retry=False,  # a failed run is resumed by the admin, who sees why it stopped
        job_timeout=6 * 3600,
        description=f"import {member_id} {'dry run' if dry_run else 'run'}",
    )


@bp.get("/imports/<member_id>/jobs/<key>")
@page_api(admin=True)
def job(member_id: str, key: str):
    found = upload.progress(current_services().redis, member_id, key[:64])
    if found is None:
        return refuse(404, "Нет такого импорта", "No such import")
    return jsonify(found)


@bp.get("/imports/<member_id>/runs/<int:run_id>/report.csv")
@page_api(admin=True)
def report_csv(member_id: str, run_id: int):
    from app.store import imports

    with current_services().session() as session:
        run_row = session.get(imports.ImportRun, run_id)
        if run_row is None or run_row.member_id != member_id:
            return refuse(404, "Нет такого импорта", "No such import")
        rows = [
            (r.row_no, r.outcome, r.detail)
            for r in imports.outcomes(session, run_id)
            if r.outcome != "created"
        ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "outcome", "detail"])
    writer.writerows((n, outcome, _cell(detail)) for n, outcome, detail in rows)
    return Response(
        "\ufeff" + out.getvalue(),  # UTF-8 with BOM: a spreadsheet opens it as such
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{run_id}.csv"'},
    )


def _cell(text: str) -> str:
    """A detail may quote a cell of the uploaded sheet: never let a spreadsheet read it as a
    formula when the admin opens the report."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
