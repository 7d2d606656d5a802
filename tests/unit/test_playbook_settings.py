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
