"""Index of how existing clients are reached: normalised phones, e-mails, company names.

One row per (contact/company, kind, value). A new lead's phone or e-mail finds the client
(and their responsible) with one indexed lookup instead of a scan of the mirror. Kept in
step with the mirror by ``app.objects.comms`` (a mirror listener).

Functions take a ``Session`` and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import BigInteger, Index, Integer, String, delete, insert, select, tuple_
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.store.base import Base

_ID = BigInteger().with_variant(Integer(), "sqlite")


class ClientComm(Base):
    __tablename__ = "client_comms"
    __table_args__ = (Index("ix_client_comms_value", "member_id", "kind", "value"),)

    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entity: Mapped[str] = mapped_column(String(16), primary_key=True)  # contact | company
    record_id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # phone | email | company
    value: Mapped[str] = mapped_column(String(255), primary_key=True)
    responsible_id: Mapped[int | None] = mapped_column(_ID, nullable=True)


def replace(
    session: Session,
    member_id: str,
    entity: str,
    record_id: int,
    values: Iterable[tuple[str, str]],
    responsible_id: int | None,
) -> None:
    """The record's rows become exactly ``values`` ((kind, value) pairs); none = forget it."""
    session.execute(
        delete(ClientComm).where(
            ClientComm.member_id == member_id,
            ClientComm.entity == entity,
            ClientComm.record_id == int(record_id),
        )
    )
    rows = [
        {
            "member_id": member_id,
            "entity": entity,
            "record_id": int(record_id),
            "kind": kind,
            "value": value[:255],
            "responsible_id": responsible_id,
        }
        for kind, value in sorted(set(values))
    ]
    if rows:
        session.execute(insert(ClientComm), rows)


def find(session: Session, member_id: str, pairs: Iterable[tuple[str, str]]) -> list[ClientComm]:
    """Rows matching any (kind, value) pair."""
    pairs = sorted(set(pairs))
    if not pairs:
        return []
    q = select(ClientComm).where(
        ClientComm.member_id == member_id, tuple_(ClientComm.kind, ClientComm.value).in_(pairs)
    )
    return list(session.scalars(q))
