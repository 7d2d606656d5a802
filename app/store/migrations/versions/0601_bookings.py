"""Measurers' bookings (kitchens) and the 30-minute cells that make double bookings fail.

Revision ID: 0601_bookings
Revises: 0001_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision = "0601_bookings"
down_revision = "0001_installations"
branch_labels = ("bookings",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "measurement_bookings",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("lead_id", _ID, nullable=False),
        sa.Column("measurer_id", sa.Integer, nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("end", UTCDateTime(), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("staff_contact", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurement_bookings")),
    )
    op.create_index(
        op.f("ix_measurement_bookings_member_id"), "measurement_bookings", ["member_id"]
    )
    op.create_table(
        "measurement_booking_cells",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("measurer_id", sa.Integer, nullable=False),
        sa.Column("cell_start", UTCDateTime(), nullable=False),
        sa.Column("booking_id", _ID, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_measurement_booking_cells")),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["measurement_bookings.id"],
            name=op.f("fk_measurement_booking_cells_booking_id_measurement_bookings"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "member_id",
            "measurer_id",
            "cell_start",
            name=op.f("uq_measurement_booking_cells_member_id_measurer_id_cell_start"),
        ),
    )
    op.create_index(
        op.f("ix_measurement_booking_cells_booking_id"),
        "measurement_booking_cells",
        ["booking_id"],
    )


def downgrade() -> None:
    op.drop_table("measurement_booking_cells")
    op.drop_table("measurement_bookings")
