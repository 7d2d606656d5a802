"""The settings page's Excel import over HTTP (metal, issue #17): upload an .xlsx, correct
the column mapping, dry-run, run, poll the progress, download the refusals — against the
emulator with a real RQ worker on the bulk queue; the portal is read back through REST.
Only a portal administrator's page bearer may import."""

from __future__ import annotations

import io

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from app.widgets._viewer import Viewer, issue_bearer, page_key
from tests.e2e._metal_world import MetalWorld, portal_world

pytestmark = pytest.mark.e2e

HEADERS = ["Компания", "ИНН", "Контактное лицо", "Телефон", "Ответственный", "Примечание"]
ROWS = [
    ["ООО «Сталь-1»", "7701000001", "Иванов Иван", "+7 912 000-00-01", "2", "vip"],
    ["ООО «Сталь-2»", "7701000002", "Петров Пётр", "12-34", "2", ""],  # bad phone
    ["", "", "", "+7 912 000-00-03", "2", ""],  # no name
    ["ООО «Сталь-4»", "7701000004", "Сидоров Сидор", "+7 912 000-00-04", "Пётр Никто", ""],
    ["ООО «Сталь-5»", "7701000005", "=HYPERLINK(1)", "+7 912 000-00-05", "2", ""],
]


@pytest.fixture
def world(tmp_path, redis_url):
    yield from portal_world(tmp_path, redis_url, playbooks=["metal"], world_class=MetalWorld)


def _xlsx(rows=ROWS) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.append(HEADERS)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _api(w, admin=True):
    key = page_key(w.services, w.member_id, w.app_token)
    bearer = issue_bearer(key, w.member_id, Viewer(1 if admin else 2, "", admin))
    client = w.app.test_client()
    headers = {"Authorization": f"Bearer {bearer}"}
    base = f"/imports/{w.member_id}"

    def call(method, path, **kwargs):
        return getattr(client, method)(base + path, headers=headers, **kwargs)

    return call


def _work(w):
    queue = w.services.queue("bulk")
    SimpleWorker([queue], connection=w.services.redis, serializer=JSONSerializer).work(burst=True)


def _upload(api, data=None, name="clients.xlsx"):
    sent = {"file": (io.BytesIO(_xlsx() if data is None else data), name)}
    return api("post", "/uploads", data=sent, content_type="multipart/form-data")


def test_upload_map_dry_run_run_and_report(world):
    w = world
    api = _api(w)
    made = _upload(api)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    upload = body["upload"]
    detected = {c["header"]: c["field"] for c in body["columns"]}
    assert detected["Компания"] == "company" and detected["Телефон"] == "phone"
    assert detected["Примечание"] is None  # not recognised: ignored unless chosen
    assert _upload(api).get_json()["upload"] == upload  # the same file is the same upload

    # the mapping step: a wrong choice is explained, a right one is shown
    wrong = api("post", f"/uploads/{upload}/mapping", json={"overrides": {"Нет такой": "inn"}})
    assert wrong.status_code == 400 and "Нет такой" in wrong.get_json()["error"]
    options = {"overrides": {"ИНН": "-"}, "mode": "skip"}  # ignore the INN column
    fixed = api("post", f"/uploads/{upload}/mapping", json=options).get_json()
    assert "«ИНН» → (ignored)" in fixed["lines"]

    # no run before a dry run of the same file and options
    early = api("post", f"/uploads/{upload}/run", json=options)
    assert early.status_code == 409

    job = api("post", f"/uploads/{upload}/dry-run", json=options).get_json()["job"]
    assert api("get", f"/jobs/{job}").get_json()["state"] == "queued"
    _work(w)
    checked = api("get", f"/jobs/{job}").get_json()
    assert checked["state"] == "done", checked
    assert checked["report"]["dry_run"] is True
    assert checked["report"]["counts"] == {"created": 2, "refused": 3}
    reasons = {row[0]: row[2] for row in checked["report"]["rows"]}
    assert set(reasons) == {3, 4, 5}  # the sheet's row numbers
    assert not _companies(w)  # a dry run writes nothing

    started = api("post", f"/uploads/{upload}/run", json=options)
    assert started.status_code == 202
    job = started.get_json()["job"]
    _work(w)
    done = api("get", f"/jobs/{job}").get_json()
    assert done["state"] == "done" and done["done"] == done["total"] == 5
    assert done["report"]["counts"] == {"created": 2, "refused": 3}
    assert sorted(_companies(w)) == ["ООО «Сталь-1»", "ООО «Сталь-5»"]

    csv = api("get", f"/runs/{done['report']['run_id']}/report.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "row,outcome,detail" and len(lines) == 4
    # running the finished import again writes nothing twice
    again = api("post", f"/uploads/{upload}/run", json=options).get_json()["job"]
    _work(w)
    assert api("get", f"/jobs/{again}").get_json()["state"] == "done"
    assert len(_companies(w)) == 2


def test_bad_files_and_bad_requests_are_refused_clearly(world):
    api = _api(world)
    junk = _upload(api, data=b"not a spreadsheet", name="clients.xlsx")
    assert junk.status_code == 400 and "xlsx" in junk.get_json()["error"]
    assert "/" not in junk.get_json()["error"]  # no server path in the message
    assert api("post", "/uploads", data={}, content_type="multipart/form-data").status_code == 400
    upload = _upload(api).get_json()["upload"]
    bad = api("post", f"/uploads/{upload}/dry-run", json={"mode": "overwrite"})
    assert bad.status_code == 400
    bad_field = api("post", f"/uploads/{upload}/mapping", json={"overrides": {"ИНН": "salary"}})
    assert bad_field.status_code == 400
    assert api("post", f"/uploads/{'0' * 64}/dry-run", json={}).status_code == 404
    assert api("post", "/uploads/../../etc/dry-run", json={}).status_code == 404
    assert api("get", "/jobs/nope").status_code == 404
    assert api("get", "/runs/999/report.csv").status_code == 404


def test_only_an_admin_imports(world):
    staff = _api(world, admin=False)
    assert _upload(staff).status_code == 403
    anonymous = world.app.test_client().post(f"/imports/{world.member_id}/uploads")
    assert anonymous.status_code == 401


def _companies(w):
    return [c["title"] for c in w.items(4)]
