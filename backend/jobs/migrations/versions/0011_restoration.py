"""A job's restoration strength (0–1 or auto) and Real-CUGAN denoise level.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 23:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Upgrade the schema: existing jobs ran at full strength with the model's default denoise level."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("strength", sa.String(8), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("denoise", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Downgrade the schema."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("denoise")
        batch_op.drop_column("strength")
