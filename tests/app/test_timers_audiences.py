"""Audience roles → user ids through the portal's departments (cached) and role settings."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from app.store.base import Base
from app.timers import audiences
from tests.app._events_fakes import emu_requests, gateway_client

M = "member-audiences"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ROLES = ("sales", "head_of_sales", "ceo", "responsible", "store_manager", "nobody")


@pytest.fixture
def sessions():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    return sessionmaker(engine)


@pytest.fixture
def client(emulator, redis_conn):
    return gateway_client(emulator, redis_conn, M)


def test_roles_come_from_the_portal_structure_and_the_cache_saves_requests(
    sessions, client, emulator
):
    record = {"assignedById": 4, "UF_CRM_FR_CITY": "г. Минск"}
    settings = {"store_managers": {"Минск": 12}}
    got = audiences.resolve(sessions, client, M, ROLES, settings, record, NOW)
    assert got == {
        "sales": (2, 3, 4),  # «Отдел продаж» and its head
        "head_of_sales": (2,),
        "ceo": (1,),  # head of the root department
        "responsible": (4,),
        "store_manager": (12,),
        "nobody": (),
    }
    before = emu_requests(emulator)
    again = audiences.resolve(
        sessions, client, M, ROLES, settings, record, NOW + timedelta(minutes=15)
    )
    assert again == got and emu_requests(emulator) == before
    audiences.resolve(sessions, client, M, ("ceo",), settings, record, NOW + timedelta(hours=2))
    assert emu_requests(emulator) > before  # stale after an hour: read again


def test_role_settings_override_the_structure_without_calling_the_portal(
    sessions, client, emulator
):
    settings = {"sales_user_ids": [7, "8", 7], "head_of_sales_id": 9, "ceo_id": "10"}
    before = emu_requests(emulator)
    got = audiences.resolve(
        sessions, client, M, ("sales", "head_of_sales", "ceo"), settings, {}, NOW
    )
    assert got == {"sales": (7, 8), "head_of_sales": (9,), "ceo": (10,)}
    assert emu_requests(emulator) == before


def test_sales_department_by_setting_includes_sub_departments():
    directory = audiences.Directory(
        [
            {"ID": "1", "NAME": "Компания", "UF_HEAD": "1"},
            {"ID": "5", "NAME": "Розница", "PARENT": "1", "UF_HEAD": "6"},
            {"ID": "8", "NAME": "Магазин 1", "PARENT": "5"},
        ],
        [
            {"ID": "6", "ACTIVE": True, "UF_DEPARTMENT": [5]},
            {"ID": "7", "ACTIVE": True, "UF_DEPARTMENT": [8]},
            {"ID": "9", "ACTIVE": False, "UF_DEPARTMENT": [8]},
            {"ID": "2", "ACTIVE": True, "UF_DEPARTMENT": [1]},
        ],
    )
    assert directory.role("sales", "Розница") == (6, 7)
    assert directory.role("head_of_sales", "5") == (6,)
    assert directory.role("sales") == ()  # no department looks like sales: nobody, not everyone
