"""Retention: a finished job (files and row) is deleted ``RETENTION_S`` after it ended.

A download already under way is not cut: the media routes stream from a file descriptor they opened
before the response started, and POSIX keeps an unlinked file readable through it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from backend.janitor.sweeps import Reclaimed, job_folder, remove_folder
from backend.jobs import cancels
from backend.jobs import rules as jobs
from backend.jobs.db import Job, utcnow

log = logging.getLogger(__name__)


class Expired(Protocol):
    """Finished jobs that ended before a moment (``backend.janitor.records.JobRecords``)."""

    def finished_before(self, moment: datetime, limit: int = ...) -> list[str]: ...


class RowDeleter(Protocol):
    """Removes a finished job's row (``backend.jobs.store.JobStore.delete``)."""

    def delete(self, job_id: str) -> bool: ...


def expires_at(job: Job, retention_s: float) -> datetime | None:
    """When a finished job will be deleted (None: still active, or retention is off)."""
    if retention_s <= 0 or job.status not in jobs.TERMINAL:
        return None
    ended = job.finished_at or job.updated_at
    if ended.tzinfo is None:
        ended = ended.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return ended + timedelta(seconds=retention_s)


def expired_jobs(
    root: Path,
    records: Expired,
    rows: RowDeleter,
    retention_s: float,
    clock: Callable[[], datetime] = utcnow,
) -> Reclaimed:
    """Delete every job that ended more than ``retention_s`` ago: its row first, then its folder."""
    total = Reclaimed()
    if retention_s <= 0:
        return total
    for job_id in records.finished_before(clock() - timedelta(seconds=retention_s)):
        # As a delete (creation.delete_job): the row (leaving a tombstone), the marker, then the files.
        # Once the row is gone no new download can start, and one in flight holds its descriptor.
        if not rows.delete(job_id):
            continue
        cancels.write_marker(root, job_id)  # a duplicate task still queued is acked without storage
        removed = remove_folder(job_folder(root, job_id))
        total.add(removed)
        log.info(
            "job expired and deleted",
            extra={"job_id": job_id, "files": removed.files, "bytes": removed.bytes},
        )
    return total
