"""How the «Автоматизация» tab words a rule's cause and what an action wrote (pure helpers of
app.widgets.automation); the causes are the ones app.rules.changes / app.timers.jobs make."""

from app.rules.changes import diff
from app.widgets import WidgetContext
from app.widgets.automation import describe_cause, record_title, stage_titles, written


def _ctx(lang):
    return WidgetContext("m", "d", "automation_lead", "CRM_LEAD_DETAIL_TAB", 1, {}, lang, "", None)


def _people(user_id):
    return {"7": "Анна Петрова"}.get(str(user_id), f"#{user_id}")


def test_causes_read_as_what_happened_in_both_languages():
    before = {"id": 1, "stageId": "NEW", "assignedById": 1, "updatedTime": "2026-12-01T10:00:00"}
    after = {**before, "stageId": "IN_PROCESS", "assignedById": 7, "title": "Навес"}
    after["updatedTime"] = "2026-12-01T11:00:00"
    causes = {c.kind: c.cause for c in diff("m", "lead", 1, before, after)}
    ru, en = _ctx("ru"), _ctx("en")
    assert describe_cause(ru, causes["stage_entered"], _people) == "Стадия: NEW → IN_PROCESS"
    assert describe_cause(en, causes["responsible_changed"], _people) == (
        "New responsible: Анна Петрова"
    )
    assert describe_cause(en, causes["field_changed"], _people) == "Fields changed: title"
    (created, entered) = diff("m", "lead", 2, None, after)
    assert describe_cause(ru, created.cause, _people) == "Запись создана"
    assert describe_cause(en, entered.cause, _people) == "Created in stage IN_PROCESS"
    assert describe_cause(en, "timer:42", _people) == "Timer #42 fired"
    assert describe_cause(ru, "user:7", _people) == "Действие пользователя Анна Петрова"
    assert describe_cause(en, "something-new", _people) == "something-new"
    titles = stage_titles("en")
    named = describe_cause(
        en, "stage:metal.lead.unprocessed>metal.lead.declined@t", _people, titles.get
    )
    assert named == f"Stage: {titles['metal.lead.unprocessed']} → {titles['metal.lead.declined']}"
    assert stage_titles("ru")["metal.lead.declined"] != titles["metal.lead.declined"]


def test_written_lists_the_fields_and_values_not_the_bookkeeping():
    action = {
        "entity": "lead",
        "record_id": 5,
        "fields": {"UF_CRM_MT_AREA": 300.0, "title": "<b>Склад</b>"},
        "key": "",
        "stage": "",
    }
    assert written(action) == [("UF_CRM_MT_AREA", "300.0"), ("title", "<b>Склад</b>")]
    timer = {"kind": "metal.untouched", "record": ["lead", 5], "payload": {"stage": "x"}}
    assert written(timer) == [
        ("kind", "metal.untouched"),
        ("record", '["lead", 5]'),
    ]
    assert written(None) == []
    assert written({"stage": "metal.lead.declined"}, {"metal.lead.declined": "Declined"}.get) == [
        ("stage", "Declined")
    ]


def test_record_title_is_the_title_or_the_persons_name():
    assert record_title({"title": "Склад"}) == "Склад"
    assert record_title({"name": "Иван", "lastName": "Петров"}) == "Петров Иван"
    assert record_title(None) == ""
