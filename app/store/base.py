"""Declarative base shared by every table of the store.

Times are stored as UTC. SQLite drops the zone of ``DateTime(timezone=True)``, so
:class:`UTCDateTime` re-attaches UTC on the way out and converts on the way in: code
always sees aware datetimes, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, select
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An aware-UTC datetime column on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def record_rows(
    session: Session, model: type[Any], member_id: str, entity: str, record_id: int
) -> list[Any]:
    """Rows of ``model`` about one CRM record of one portal, oldest first.

    For the per-record journals (audit entries, stage stays): ``model`` needs ``member_id``,
    ``entity``, ``record_id`` and an increasing ``id``."""
    q = (
        select(model)
        .where(
            model.member_id == member_id,
            model.entity == entity,
            model.record_id == int(record_id),
        )
        .order_by(model.id)
    )
    return list(session.scalars(q))
