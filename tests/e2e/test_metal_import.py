"""E2E metal (seed 001: «мы перенесли все данные клиента из Excel-таблиц в Битрикс24»): the
spreadsheet import against the emulator over HTTP, on SQLite and (with TEST_DATABASE_URL)
PostgreSQL. The import runs as the real CLI in its own process, is killed with SIGKILL
halfway, and the same command resumes it; the portal's state is then read back through REST.

Docs: api-reference/crm/universal/crm-item-add.md (``fm``, ``originatorId``/``originId``),
api-reference/crm/universal/crm-item-list.md, api-reference/how-to-call-rest-api/batch.md
(``$result[...]`` chaining), api-reference/user/user-get.md.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from tests.e2e._metal_world import MetalWorld, portal_world

ROOT = Path(__file__).resolve().parents[2]
ROWS = int(os.environ.get("IMPORT_E2E_ROWS", "5000"))
BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("TEST_DATABASE_URL") else [])
MANAGERS = ("Иван Петров", "m.kuznetsova@example.ru", "2")  # users 3, 4, 2
MANAGER_IDS = (3, 4, 2)
HEADERS = ("Компания", "ИНН", "Контактное лицо", "Телефон", "E-mail", "Ответственный",
           "Ширина, м", "Длина, м", "Высота, м", "Место строительства", "Назначение здания")  # fmt: skip
OLD_PHONE, OLD_INN = "+79990000001", "7799999999"


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
        return
    from app.store.db import normalize_url

    admin_url = normalize_url(os.environ["TEST_DATABASE_URL"])
    name = f"{os.environ.get('TEST_DB_PREFIX', 'b24test')}imp_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def world(tmp_path, redis_url, db_url):
    yield from portal_world(
        tmp_path, redis_url, playbooks=["metal"], world_class=MetalWorld, db_url=db_url
    )


def kind(i: int) -> str:
    return {7: "bad_phone", 13: "no_name", 29: "unknown_manager", 41: "old_contact",
            53: "old_company", 67: "repeat"}.get(i % 100, "new")  # fmt: skip


def client_row(i: int) -> list:
    phone = f"8 (912) {i // 10000:03d}-{i % 10000 // 100:02d}-{i % 100:02d}"
    obj = ["", "", "", "", ""]
    if i % 3 == 0:
        obj = [10 + i % 7, "20,5", "600 см", f"Казань, участок {i}", "Склад"]
    return [f"ООО «Клиент {i}»", f"77{i:08d}", f"Иванов Иван Сергеевич{i}", phone,
            f"c{i}@example.ru", MANAGERS[i % 3], *obj]  # fmt: skip


def make_sheet(path: Path, rows: int) -> dict[str, set[int]]:
    """The sheet, and which sheet rows should end as what."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet("Клиенты")
    ws.append(list(HEADERS))
    expected: dict[str, set[int]] = {"created": set(), "skipped": set(), "refused": set()}
    for i in range(rows):
        number = i + 2  # the header is row 1
        cells, what = client_row(i), kind(i)
        if what == "bad_phone":
            cells[3] = "12-34"
        elif what == "no_name":
            cells[0] = cells[2] = ""
        elif what == "unknown_manager":
            cells[5] = "Пётр Неизвестный"
        elif what == "old_contact":
            cells[0], cells[1], cells[2], cells[3] = "", "", "Старый Клиент", OLD_PHONE
        elif what == "old_company":
            cells[0], cells[1] = "Сталь", OLD_INN
        elif what == "repeat":
            cells = client_row(i - 1)
        ws.append(cells)
        group = {"bad_phone": "refused", "no_name": "refused", "unknown_manager": "refused",
                 "old_contact": "skipped", "old_company": "skipped", "repeat": "skipped"}  # fmt: skip
        expected[group.get(what, "created")].add(number)
    book.save(path)
    return expected


def cli(world, db_url, redis_url, *args, wait=True):
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "EMULATOR_ADDRESS": world.emu.domain,
        "B24_CLIENT_ID": world.services.settings.b24_client_id,
        "B24_CLIENT_SECRET": world.services.settings.b24_client_secret,
        "VAR_DIR": world.services.settings.var_dir,
        "RATE_BURST": "1000",  # the emulator runs without limits here; so may the gateway
        "RATE_DRAIN_PER_S": "1000",
    }
    argv = [sys.executable, "-m", "flask", "--app", "wsgi", "b24", "import",
            "--portal", world.member_id, *args]  # fmt: skip
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    if not wait:
        return proc
    out, err = proc.communicate(timeout=900)
    return proc.returncode, out, err


def recorded(engine) -> int:
    from app.store.imports import ImportRow

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(ImportRow)).scalar_one()


def all_items(world, entity_type_id):
    client = world.services.portal(world.member_id)
    return list(
        client.iter_list(
            "crm.item.list",
            {"entityTypeId": entity_type_id, "select": ["*"]},
            id_field="id",
            items_key="items",
            batch_pages=50,
        )
    )


def test_5000_rows_dry_run_then_import_killed_halfway_and_resumed(
    world, db_url, redis_url, tmp_path
):
    w = world
    old_company = w.add(4, {"title": "ООО Сталь", w.uf("company", "UF_CRM_MT_INN"): OLD_INN})
    old_contact = w.add(3, {"name": "Старый", "fm": [{"typeId": "PHONE", "value": OLD_PHONE}]})
    sheet = tmp_path / "clients.xlsx"
    expected = make_sheet(sheet, ROWS)

    # 1. apply before any dry run: refused, nothing written
    code, _out, err = cli(w, db_url, redis_url, str(sheet), "--apply")
    assert code != 0 and "without --apply first" in err
    # 2. the dry run: the mapping, the counts, every refusal — and nothing on the portal
    code, out, err = cli(w, db_url, redis_url, str(sheet), "--report", str(tmp_path / "dry.csv"))
    assert code == 0, err
    assert "«Контактное лицо» → contact" in out and "«Ширина, м» → width" in out
    assert f"created {len(expected['created'])}" in out, out
    assert f"refused {len(expected['refused'])}" in out and "nothing written" in out
    assert len(all_items(w, 4)) == 1 and len(all_items(w, 3)) == 1

    # 3. the import, killed with SIGKILL once about half the rows are recorded
    engine = create_engine(db_url)
    proc = cli(w, db_url, redis_url, str(sheet), "--apply", wait=False)
    deadline = time.monotonic() + 600
    while recorded(engine) < ROWS // 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()[1]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    halfway = recorded(engine)
    assert 0 < halfway < ROWS

    # 4. the same command resumes and finishes
    report = tmp_path / "report.csv"
    code, out, err = cli(w, db_url, redis_url, str(sheet), "--apply", "--report", str(report))
    assert code == 0, err
    assert "resumed at row" in out

    # 5. the outcome of every row, from the store's journal and the CSV report
    from app.store.imports import ImportRow

    with engine.connect() as conn:
        rows = {r.row_no: r for r in conn.execute(select(ImportRow))}
    engine.dispose()
    got = {o: {n for n, r in rows.items() if r.outcome == o} for o in expected}
    wrong = {n: (rows[n].outcome, rows[n].detail) for o in expected for n in expected[o] ^ got[o]}
    assert got == expected, wrong
    with open(report, encoding="utf-8-sig") as handle:
        reported = {int(r["row"]): r for r in csv.DictReader(handle)}
    assert set(reported) == expected["refused"] | expected["skipped"]
    assert "bad phone" in reported[2 + 7]["detail"]
    assert "empty name" in reported[2 + 13]["detail"]
    assert "unknown manager" in reported[2 + 29]["detail"]
    assert f"contact #{old_contact}" in reported[2 + 41]["detail"]
    assert f"company #{old_company} (ИНН)" in reported[2 + 53]["detail"]

    # 6. the portal holds each client once: no row was written twice across the kill
    new = [i for i in range(ROWS) if kind(i) == "new"]
    companies = [c for c in all_items(w, 4) if c.get("originatorId") == "b24app.import"]
    contacts = [c for c in all_items(w, 3) if c.get("originatorId") == "b24app.import"]
    objects = [
        o for o in all_items(w, w.object_etid) if str(o.get("xmlId")).startswith("b24app.import:")
    ]
    assert sorted(c["title"] for c in companies) == sorted(f"ООО «Клиент {i}»" for i in new)
    assert len(contacts) == len(new) and len(objects) == len([i for i in new if i % 3 == 0])
    by_id = {c["id"]: c for c in companies}
    sample = next(c for c in contacts if c["secondName"] == "Сергеевич1")  # row of i=1
    assert sample["lastName"] == "Иванов" and sample["name"] == "Иван"
    assert by_id[sample["companyId"]]["title"] == "ООО «Клиент 1»"
    assert sample["assignedById"] == MANAGER_IDS[1]
    assert [f["value"] for f in sample["fm"] if f["typeId"] == "PHONE"] == ["+79120000001"]
    first_object = next(o for o in objects if o["title"] == "Казань, участок 0")
    assert first_object[w.uf("metal.object", "UF_CRM_OBJ_WIDTH")] == 10
    assert first_object[w.uf("metal.object", "UF_CRM_OBJ_HEIGHT")] == 6
    assert first_object[w.uf("metal.object", "UF_CRM_OBJ_AREA")] == 205
    assert first_object[w.uf("metal.object", "UF_CRM_OBJ_PURPOSE")] == w.purpose(
        "metal.object", "warehouse"
    )
