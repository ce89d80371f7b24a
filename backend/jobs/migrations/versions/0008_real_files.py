"""A job's deinterlace option and its notes (what the run changed in the video, as catalogue reasons).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 20:25:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Upgrade the schema: existing jobs were never deinterlaced and have no notes."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deinterlace", sa.String(8), nullable=False, server_default="off"))
        batch_op.add_column(sa.Column("notes", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade the schema."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("notes")
        batch_op.drop_column("deinterlace")
