"""Revocable owner sessions: the moment before which an owner's cookies no longer count.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 02:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Upgrade the schema: nothing revoked yet."""
    op.create_table(
        "revocations",
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("owner"),
    )


def downgrade() -> None:
    """Downgrade the schema."""
    op.drop_table("revocations")
