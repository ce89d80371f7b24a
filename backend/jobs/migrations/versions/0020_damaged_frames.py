"""Pictures of a job lost to damage and replaced by the last good one (issue 29).

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-07 02:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Upgrade the schema: jobs done before it counted nothing (null)."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("damaged_frames", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Downgrade the schema."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("damaged_frames")
