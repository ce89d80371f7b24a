"""The quota ledger: reservations of uploads still arriving, and the hourly upload marks.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Upgrade the schema: both tables start empty (uploads in flight are counted from their next byte)."""
    op.create_table(
        "reservations",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reservations_owner"), ["owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_reservations_expires_at"), ["expires_at"], unique=False)
    op.create_table(
        "upload_marks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("upload_marks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_upload_marks_key"), ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_upload_marks_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_upload_marks_ref"), ["ref"], unique=False)


def downgrade() -> None:
    """Downgrade the schema."""
    op.drop_table("upload_marks")
    op.drop_table("reservations")
