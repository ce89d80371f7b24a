"""Alembic environment: runs on the connection that ``backend.jobs.db.migrate`` passes in (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from backend.jobs.db import Base

connection = context.config.attributes["connection"]
# Batch mode lets later revisions alter columns on SQLite too (it rebuilds the table).
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
