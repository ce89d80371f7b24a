"""Cancel markers: the adapters' view of which jobs must stop, kept where deleting a job's files cannot reach.

The database is the truth: a cancelled job's status, a deleted job's tombstone. ``cancels/<id>``
(``contract.storage.cancel_key``) is its projection for the adapters, which poll it while a task runs and
check it before touching storage at delivery. It is written after the commit, best effort: a storage
that refuses it (a full disk) is logged, and ``sync_markers`` (the janitor) writes it again from the
database. ``expire_markers`` drops the markers, and the tombstones, of jobs deleted more than a TTL ago,
once no task of theirs can still be queued.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from backend.jobs.db import utcnow
from contract import storage

log = logging.getLogger(__name__)

#: How long a deleted job's marker and tombstone stay: longer than any task of it can wait in the queue.
TOMBSTONE_TTL_S = 7 * 24 * 3600


class MarkedJobs(Protocol):
    """What the markers are synced and expired against (``backend.jobs.store.JobStore``)."""

    def stopped_ids(self) -> list[str]: ...

    def known_ids(self, ids: Collection[str]) -> set[str]: ...

    def forget_tombstones(self, before: datetime) -> list[str]: ...


def marker_path(root: Path, job_id: str) -> Path:
    """Where the job's cancel marker is."""
    return storage.resolve(root, storage.cancel_key(job_id))


def write_marker(root: Path, job_id: str) -> bool:
    """Write the job's (empty) cancel marker; False, logged, when the storage refused it.

    Empty, so that a full volume with a free inode still takes it.
    """
    try:
        path = marker_path(root, job_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError as exc:
        log.warning("cancel marker not written: %s", exc, extra={"job_id": job_id, "errno": exc.errno})
        return False
    return True


def sync_markers(store: MarkedJobs, root: Path) -> int:
    """Write the missing marker of every cancelled or deleted job; returns how many were written."""
    written = 0
    for job_id in store.stopped_ids():
        if not marker_path(root, job_id).exists() and write_marker(root, job_id):
            written += 1
    if written:
        log.info("cancel markers restored", extra={"count": written})
    return written


def expire_markers(store: MarkedJobs, root: Path, ttl_s: float, now: datetime | None = None) -> int:
    """Remove the markers and tombstones of jobs deleted over ``ttl_s`` ago, and stray old markers.

    A stray marker (no job, no tombstone) older than ``ttl_s`` goes too; a younger one may belong to a
    job whose row is being written right now. Returns how many markers were removed.
    """
    now = now or utcnow()
    removed = 0
    for job_id in store.forget_tombstones(now - timedelta(seconds=ttl_s)):
        removed += _remove(root, job_id)
    folder = storage.resolve(root, storage.CANCELS_DIR)
    names = [path.name for path in folder.iterdir()] if folder.is_dir() else []
    strays = set(names) - store.known_ids(names)
    oldest = time.time() - ttl_s
    for job_id in strays:
        path = folder / job_id
        try:
            if path.stat().st_mtime < oldest:
                removed += _remove(root, job_id)
        except (OSError, storage.UnsafeKeyError):
            continue  # removed meanwhile, or a name that is no job id
    return removed


def _remove(root: Path, job_id: str) -> int:
    try:
        marker_path(root, job_id).unlink()
    except FileNotFoundError:
        return 0
    return 1
