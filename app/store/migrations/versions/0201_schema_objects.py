"""Installer state: which portal objects each stable code maps to, and which are ours.

Revision ID: 0201_schema_objects
Revises: 0001_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.store.base import UTCDateTime

revision = "0201_schema_objects"
down_revision = "0001_installations"
branch_labels = ("installer",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schema_objects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("code", sa.String(200), nullable=False),
        sa.Column("real_id", sa.String(64), nullable=True),
        sa.Column("real_name", sa.String(100), nullable=True),
        sa.Column("owned", sa.Boolean, nullable=False),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schema_objects")),
        sa.UniqueConstraint(
            "member_id", "kind", "code", name=op.f("uq_schema_objects_member_id_kind_code")
        ),
    )
    op.create_index(op.f("ix_schema_objects_member_id"), "schema_objects", ["member_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_schema_objects_member_id"), table_name="schema_objects")
    op.drop_table("schema_objects")
