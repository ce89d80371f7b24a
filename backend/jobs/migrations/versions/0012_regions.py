"""A job's region inference option and the share of pixels its model ran on (issue 18).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 23:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Upgrade the schema: existing jobs ran full frames; their share is unknown."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("regions", sa.String(8), nullable=False, server_default="off"))
        batch_op.add_column(sa.Column("inferred_share", sa.Float(), nullable=True))


def downgrade() -> None:
    """Downgrade the schema."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("inferred_share")
        batch_op.drop_column("regions")
