"""The audio description's density (brief/normal/detailed) of a job.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 23:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Upgrade the schema: existing jobs keep no density (their descriptions were ``normal``)."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description_density", sa.String(8), nullable=True))


def downgrade() -> None:
    """Downgrade the schema."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("description_density")
