"""An animation's background colour, the HDR option and the job's time estimate (issue 29).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 03:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Upgrade the schema: older jobs laid transparency on black, kept HDR and had no estimate."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("background", sa.String(7), nullable=False, server_default="#000000"))
        batch_op.add_column(sa.Column("hdr", sa.String(4), nullable=False, server_default="keep"))
        batch_op.add_column(sa.Column("estimate_s", sa.Float(), nullable=True))


def downgrade() -> None:
    """Downgrade the schema."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("estimate_s")
        batch_op.drop_column("hdr")
        batch_op.drop_column("background")
