"""Jobs record their retries: the attempt, of how many, when the retry runs and why.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 19:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Upgrade the schema."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("retry_code", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("retry_params", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("retry_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("retry_infra", sa.Boolean(), nullable=True))


def downgrade() -> None:
    """Downgrade the schema."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("retry_infra")
        batch_op.drop_column("retry_error")
        batch_op.drop_column("retry_params")
        batch_op.drop_column("retry_code")
        batch_op.drop_column("retry_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("attempt")
