"""Every job row has a description density: rows from before the column say ``normal``, and it is NOT NULL.

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-07 02:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Backfill ``normal`` (what the outbox assumed for such rows), then forbid NULL."""
    op.execute("UPDATE jobs SET description_density = 'normal' WHERE description_density IS NULL")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.alter_column(
            "description_density", existing_type=sa.String(8), nullable=False, server_default="normal"
        )


def downgrade() -> None:
    """Downgrade the schema (the backfilled values stay)."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.alter_column(
            "description_density", existing_type=sa.String(8), nullable=True, server_default=None
        )
