"""A quick test run's excerpt: where in its original the few seconds it processes start.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 00:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Upgrade the schema: existing jobs are whole runs (no excerpt)."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("excerpt_start", sa.Float(), nullable=True))


def downgrade() -> None:
    """Downgrade the schema."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("excerpt_start")
