"""The storage key of a job's playable «before» proxy (originals the browser cannot play).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 00:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Upgrade the schema: existing jobs have no proxy (the page plays their original)."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_proxy_key", sa.String(255), nullable=True))


def downgrade() -> None:
    """Downgrade the schema."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("source_proxy_key")
