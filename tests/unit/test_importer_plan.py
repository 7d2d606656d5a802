"""The spreadsheet import's pure core: column mapping, row validation, duplicates, commands."""

from __future__ import annotations

import pytest

from app.importer import columns, commands
from app.importer.index import ORIGINATOR, PortalIndex
from app.importer.plan import decide, origin_id
from app.importer.rows import Directory, Refusal, Row, parse
from app.rules.naming import PlainNaming

USERS = [
    {"ID": "1", "NAME": "Анна", "LAST_NAME": "Петрова", "EMAIL": "anna@corp.ru"},
    {"ID": "7", "NAME": "Иван", "LAST_NAME": "Сидоров", "EMAIL": "ivan@corp.ru"},
    {"ID": "8", "NAME": "Иван", "LAST_NAME": "Сидоров", "EMAIL": "ivan2@corp.ru"},
]
PURPOSES = {"warehouse": "Склад", "production": "Производство"}
HEADERS = ["Компания", "ИНН", "ФИО", "Телефон", "E-mail", "Менеджер", "Ширина", "Длина",
           "Высота", "Место строительства", "Назначение здания", "Примечание"]  # fmt: skip
NAMING = PlainNaming(entity_types={"metal.object": 1030})


def row(cells, number=2, mapping=None, default_manager=None):
    mapping = mapping or columns.detect(HEADERS)
    return parse(
        number, cells, mapping, Directory(USERS), purposes=PURPOSES, default_manager=default_manager
    )


def test_russian_and_english_headers_are_recognised_and_overrides_win():
    mapping = columns.detect(HEADERS)
    assert mapping == {0: "company", 1: "inn", 2: "contact", 3: "phone", 4: "email",
                       5: "manager", 6: "width", 7: "length", 8: "height", 9: "site",
                       10: "purpose"}  # fmt: skip
    english = columns.detect(["Company name", "Contact person", "Phone number", "Owner", "TIN"])
    assert english == {0: "company", 1: "contact", 2: "phone", 3: "manager", 4: "inn"}
    fixed = columns.apply_overrides(HEADERS, mapping, {"Примечание": "site", "ИНН": "-"})
    assert fixed[11] == "site" and 9 not in fixed and 1 not in fixed
    with pytest.raises(columns.MappingError, match="no column named"):
        columns.apply_overrides(HEADERS, mapping, {"Нет такой": "phone"})
    with pytest.raises(columns.MappingError, match="unknown field"):
        columns.apply_overrides(HEADERS, mapping, {"ИНН": "tax"})
    with pytest.raises(columns.MappingError, match="company or the contact"):
        columns.check({0: "phone"})


def test_a_good_row_is_normalised():
    got = row(["ООО «Ромашка»", "7701234567", "Иванов Пётр Сергеевич", "8 (912) 345-67-89; +7 912 000-00-01",
               "Petr@Mail.RU", "Анна Петрова", "12,5", "24", "600 см", "Казань", "склад"])  # fmt: skip
    assert isinstance(got, Row)
    assert got.phones == ("+79123456789", "+79120000001") and got.emails == ("petr@mail.ru",)
    assert got.manager_id == 1 and got.inn == "7701234567"
    assert got.object_fields == {"width": 12.5, "length": 24.0, "height": 6.0, "site": "Казань",
                                 "purpose": "warehouse", "area": 300.0}  # fmt: skip
    assert got.object_keys.is_complete


def test_bad_rows_are_refused_with_every_reason():
    got = row(["", "123", "", "12-34", "not-an-email", "Кто-то Неизвестный"])
    assert isinstance(got, Refusal)
    text = " | ".join(got.reasons)
    for expected in ("empty name", "bad phone", "bad e-mail", "bad INN", "unknown manager"):
        assert expected in text
    # a name two users share identifies neither; an id or an e-mail does
    assert "unknown manager" in row(["Ромашка", "", "", "", "", "Иван Сидоров"]).reasons[0]
    assert row(["Ромашка", "", "", "", "", "ivan2@corp.ru"]).manager_id == 8
    assert row(["Ромашка", "", "", "", "", 7.0]).manager_id == 7
    assert "no manager" in row(["Ромашка"]).reasons[0]
    assert row(["Ромашка"], default_manager=7).manager_id == 7
    assert row([None, None, "  "]) is None  # an empty row is no row
    assert "Ширина" in row(["Ромашка", "", "", "", "", "1", "abc"]).reasons[0]


def index_with_portal():
    index = PortalIndex(NAMING)
    index.add("company", 5, {"title": "Ромашка ООО", "UF_CRM_MT_INN": "7701234567", "fm": []})
    index.add("contact", 9, {"name": "Пётр", "companyId": 0,
                             "fm": [{"typeId": "PHONE", "value": "+79123456789"}]})  # fmt: skip
    return index


def good(number, **kw):
    base = dict(company="ООО «Ромашка»", inn="7701234567", contact="Пётр", manager_id=1,
                phones=("+79123456789",), emails=("petr@mail.ru",))  # fmt: skip
    base.update(kw)
    return Row(number, **base)


def test_skip_leaves_a_duplicate_row_out_and_says_what_matched():
    step = decide(index_with_portal(), good(2), run_id=1, mode="skip")
    assert step.outcome == "skipped" and step.parts == ()
    assert "company #5 (ИНН)" in step.detail and "contact #9 (телефон +79123456789)" in step.detail


def test_merge_fills_only_blanks_and_links_the_new_records():
    step = decide(index_with_portal(), good(2, company="Другое имя"), run_id=1, mode="merge")
    assert step.outcome == "merged"
    company, contact = step.parts
    assert company.existing == 5 and company.fields == {}  # INN matched; its title is kept
    assert contact.existing == 9
    assert contact.links == {"companyId": "company"}  # its company was blank
    assert contact.fields == {
        "fm": [{"typeId": "EMAIL", "valueType": "WORK", "value": "petr@mail.ru"}]
    }
    cmds = commands.build([step], NAMING)
    assert cmds == {
        "r2pu": ("crm.item.update", {"entityTypeId": 3, "id": 9, "fields": {
            "fm": [{"typeId": "EMAIL", "valueType": "WORK", "value": "petr@mail.ru"}],
            "companyId": 5}}),
    }  # fmt: skip


def test_two_rows_of_one_sheet_make_one_contact_and_the_second_links_to_it():
    index = PortalIndex(NAMING)
    first = decide(index, good(2, inn=""), run_id=3, mode="merge")
    second = decide(index, good(3, inn="", company=""), run_id=3, mode="skip")
    assert first.outcome == "created" and second.outcome == "skipped"
    assert "contact из строки 2" in second.detail
    cmds = commands.build([first], NAMING)
    assert list(cmds) == ["r2c", "r2p"]
    company, contact = cmds["r2c"][1]["fields"], cmds["r2p"][1]["fields"]
    assert company["originId"] == origin_id(3, 2, "company")
    assert contact["originatorId"] == ORIGINATOR and contact["originId"] == origin_id(
        3, 2, "contact"
    )
    assert contact["companyId"] == "$result[r2c][item][id]"  # chained inside the one batch
    index.resolve({"r2p": 77})  # once written, later chunks link to the real id
    third = decide(index, good(4, inn="", company=""), run_id=3, mode="skip")
    assert "contact #77" in third.detail


def test_records_a_killed_run_created_are_recognised_by_their_origin_id():
    index = PortalIndex(NAMING)
    index.add("company", 40, {"title": "Ромашка", "originatorId": ORIGINATOR,
                              "originId": origin_id(3, 2, "company")})  # fmt: skip
    # an Object (smart process: no originId) carries the mark in xmlId
    index.add("metal.object", 41, {"title": "Казань", "xmlId": f"{ORIGINATOR}:3:2:object"})
    obj = {"width": 10.0}
    step = decide(index, good(2, contact="", object_fields=obj), run_id=3, mode="skip")
    assert step.outcome == "created"
    assert [(p.existing, p.recovered) for p in step.parts] == [(40, True), (41, True)]
    assert commands.build([step], NAMING) == {}  # nothing written twice
    fresh = commands.build([decide(index, good(5, contact="", inn="", company="Новая", object_fields=obj),
                                   run_id=3, mode="skip")], NAMING)  # fmt: skip
    assert fresh["r5o"][1]["fields"]["xmlId"] == f"{ORIGINATOR}:3:5:object"


def test_chunks_keep_rows_whole_within_fifty_commands():
    index = PortalIndex(NAMING)
    steps = [
        decide(index, good(n, inn="", phones=(f"+7912{n:07d}",), emails=()), run_id=1, mode="skip")
        for n in range(2, 40)
    ]
    groups = commands.chunks(steps)
    assert all(sum(commands.size(s) for s in g) <= 50 for g in groups)
    assert [s.number for g in groups for s in g] == list(range(2, 40))


def test_the_sheet_is_read_from_its_first_filled_row_and_a_non_xlsx_is_refused(tmp_path):
    from openpyxl import Workbook

    from app.importer import sheet

    book = Workbook()
    ws = book.active
    ws.append([])
    ws.append(["Компания", "Телефон"])  # the header on row 2, as people leave a title row
    ws.append(["Ромашка", "89123456789"])
    ws.append([None, None])
    ws.append(["Лютик", None])
    book.save(tmp_path / "c.xlsx")
    headers, rows = sheet.read(tmp_path / "c.xlsx")
    assert headers == ["Компания", "Телефон"]
    assert [(n, c[0]) for n, c in rows] == [(3, "Ромашка"), (4, None), (5, "Лютик")]
    (tmp_path / "c.csv").write_text("Компания;Телефон\n")
    with pytest.raises(sheet.SheetError, match="not a readable .xlsx"):
        sheet.read(tmp_path / "c.csv")
    with pytest.raises(sheet.SheetError, match="no sheet"):
        sheet.read(tmp_path / "c.xlsx", "Лист9")
