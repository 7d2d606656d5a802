"""The portal's people (names, time zones) and UTC offset, for what the app shows.

Revision ID: 1001_portal_people
Revises: 0001_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision = "1001_portal_people"
down_revision = "0001_installations"
branch_labels = ("people",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_people",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("users", sa.JSON, nullable=False),
        sa.Column("utc_offset", sa.String(8), nullable=True),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_people")),
        sa.UniqueConstraint("member_id", name=op.f("uq_portal_people_member_id")),
    )


def downgrade() -> None:
    op.drop_table("portal_people")
