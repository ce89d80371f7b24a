"""A job's output container (MP4, or MKV to keep subtitles) and field order, both decided at upload.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 23:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Upgrade the schema: existing jobs wrote MP4."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("container", sa.String(8), nullable=False, server_default="mp4"))
        batch_op.add_column(sa.Column("field_parity", sa.String(3), nullable=True))


def downgrade() -> None:
    """Downgrade the schema."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("field_parity")
        batch_op.drop_column("container")
