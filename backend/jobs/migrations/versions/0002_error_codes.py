"""Failed jobs keep their reason as a catalogue code with parameters (error_code, error_params).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 17:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Upgrade the schema."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_code", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("error_params", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade the schema."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("error_params")
        batch_op.drop_column("error_code")
