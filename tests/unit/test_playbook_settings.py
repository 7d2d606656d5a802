"""Playbook settings: defaults from data, typed per-portal overrides in the store."""

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.playbooks.settings import effective, reset, set_value
from app.store.base import Base
from app.store.portal_settings import PortalSetting


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[PortalSetting.__table__])
    with Session(engine) as s:
        yield s


def test_defaults_then_override_then_reset(session):
    assert effective(session, "m1", "furniture")["escalate_after_hours"] == 3
    assert set_value(session, "m1", "furniture", "escalate_after_hours", "5") == 5
    assert effective(session, "m1", "furniture")["escalate_after_hours"] == 5
    assert effective(session, "m2", "furniture")["escalate_after_hours"] == 3  # per portal
    reset(session, "m1", "furniture", "escalate_after_hours")
    assert effective(session, "m1", "furniture")["escalate_after_hours"] == 3


@pytest.mark.parametrize(
    "key,value",
    [("escalate_after_hours", "soon"), ("escalate_after_hours", -1), ("city_admins", "x")],
)
def test_bad_values_are_refused_and_nothing_is_stored(session, key, value):
    with pytest.raises(ValueError):
        set_value(session, "m1", "furniture", key, value)
    assert effective(session, "m1", "furniture")[key] != value
    assert session.query(PortalSetting).count() == 0


def test_unknown_key_is_refused(session):
    with pytest.raises(KeyError):
        set_value(session, "m1", "metal", "no_such_setting", 1)


# Keys the timer-driven rules and audiences read (app/timers/audiences.py, calendars.py and
# the rules_* modules): an override is only passed on by effective() when the playbook
# declares the key, so an undeclared key would silently fall back to a built-in default.
TIMER_KEYS = {
    "kitchens": ("sos_pool_user_ids", "head_of_sales_id", "ceo_id", "sales_user_ids", "time_zone"),
    "furniture": ("remind_after_hours", "escalation_working_hours", "store_managers", "holidays"),
    "eshop": ("stage_limits_working_hours", "head_of_sales_id", "work_start", "workdays"),
}


@pytest.mark.parametrize("playbook,key", [(p, k) for p, ks in TIMER_KEYS.items() for k in ks])
def test_overrides_the_timer_rules_read_reach_them(session, playbook, key):
    value = {
        "sos_pool_user_ids": [5, 6],
        "sales_user_ids": [7],
        "head_of_sales_id": 9,
        "ceo_id": 11,
        "time_zone": "Asia/Yekaterinburg",
        "work_start": "10:00",
        "remind_after_hours": 2,
        "escalation_working_hours": True,
        "stage_limits_working_hours": True,
        "store_managers": {"Казань": 14},
        "holidays": ["2026-12-31"],
        "workdays": [1, 2, 3, 4, 5, 6],
    }[key]
    set_value(session, "m1", playbook, key, value)
    assert effective(session, "m1", playbook)[key] == value


def test_role_defaults_defer_to_the_portal_departments(session):
    # 0 / [] make app.timers.audiences resolve roles from department.get instead
    for playbook in ("kitchens", "furniture", "eshop", "b2b"):
        got = effective(session, "m1", playbook)
        assert got["head_of_sales_id"] == 0 and got["ceo_id"] == 0 and got["sales_user_ids"] == []
