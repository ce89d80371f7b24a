"""The janitor's disk sweeps: dead uploads, dead attempts' temporaries and job folders with no job.

Each sweep removes only what has been left untouched for its grace period (newest modification time
of anything in a folder), and checks the job row again right before removing a folder, so a live
upload or a job committed a moment ago is never touched.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from backend.jobs import rules as jobs
from contract import storage

log = logging.getLogger(__name__)

#: Job folders are named by job id (``uuid4().hex``); nothing else under ``jobs/`` is touched.
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
#: What a multipart upload writes before its job row exists (backend/intake/upload.py).
UPLOAD = re.compile(r"^input\.[a-z0-9]+$")


@dataclass
class Reclaimed:
    """What one sweep removed."""

    files: int = 0
    bytes: int = 0

    def add(self, other: Reclaimed) -> None:
        """Count ``other`` in too."""
        self.files += other.files
        self.bytes += other.bytes


@dataclass(frozen=True)
class Sweep:
    """A named janitor task (its name labels the metrics)."""

    name: str
    run: Callable[[], Reclaimed]


class Statuses(Protocol):
    """Which of these job ids have a row, and their status (``backend.janitor.records.JobRecords``)."""

    def statuses(self, job_ids: Iterable[str]) -> dict[str, str]: ...


def _files(folder: Path) -> Iterator[os.stat_result]:
    for parent, _dirs, names in os.walk(folder):
        for name in names:
            try:
                yield os.lstat(os.path.join(parent, name))
            except OSError:
                continue  # removed while we looked


def newest_change(folder: Path) -> float:
    """Newest modification time of ``folder`` and of anything in it."""
    try:
        newest = folder.stat().st_mtime
    except OSError:
        return time.time()  # gone or unreadable: treat as fresh, leave it alone
    return max([newest, *(stat.st_mtime for stat in _files(folder))])


def remove_folder(folder: Path) -> Reclaimed:
    """Remove ``folder`` and count what it held."""
    stats = list(_files(folder))
    shutil.rmtree(folder, ignore_errors=True)
    return Reclaimed(files=len(stats), bytes=sum(stat.st_size for stat in stats))


def job_folders(root: Path) -> dict[str, Path]:
    """Every job folder under the storage root, by job id."""
    base = root / "jobs"
    if not base.is_dir():
        return {}
    return {entry.name: Path(entry.path) for entry in os.scandir(base) if JOB_ID.match(entry.name)}


def _rowless(root: Path, records: Statuses) -> dict[str, Path]:
    folders = job_folders(root)
    known = records.statuses(folders)
    return {job_id: folder for job_id, folder in folders.items() if job_id not in known}


def _only_upload(folder: Path) -> bool:
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    return bool(names) and all(UPLOAD.match(name) for name in names)


def _remove_if_still_rowless(job_id: str, folder: Path, records: Statuses, why: str) -> Reclaimed:
    if records.statuses([job_id]):
        return Reclaimed()  # its job was committed meanwhile
    removed = remove_folder(folder)
    log.info(
        "janitor removed %s", why, extra={"job_id": job_id, "files": removed.files, "bytes": removed.bytes}
    )
    return removed


def partial_uploads(root: Path, records: Statuses, grace_s: float, now: float | None = None) -> Reclaimed:
    """Folders holding only an upload whose job was never created (a backend killed mid-upload)."""
    now = time.time() if now is None else now
    total = Reclaimed()
    for job_id, folder in _rowless(root, records).items():
        if _only_upload(folder) and newest_change(folder) < now - grace_s:
            total.add(_remove_if_still_rowless(job_id, folder, records, "a dead upload"))
    return total


def orphan_folders(
    root: Path,
    records: Statuses,
    grace_s: float,
    kept: Callable[[], set[str]] = set,
    now: float | None = None,
) -> Reclaimed:
    """Job folders with no job row (a crash between deleting the row and the files, a re-created folder).

    ``kept`` names job ids to leave alone even without a row (e.g. deleted jobs still being cancelled).
    """
    now = time.time() if now is None else now
    total = Reclaimed()
    rowless = _rowless(root, records)
    keep = kept() if rowless else set()
    for job_id, folder in rowless.items():
        if job_id not in keep and newest_change(folder) < now - grace_s:
            total.add(_remove_if_still_rowless(job_id, folder, records, "a folder with no job"))
    return total


def _temporaries(folder: Path) -> Iterator[Path]:
    for place in (folder, folder / "segments"):
        try:
            entries = list(os.scandir(place))
        except OSError:
            continue
        yield from (
            Path(e.path)
            for e in entries
            if storage.TEMPORARY.match(e.name) and e.is_file(follow_symlinks=False)
        )


def dead_temporaries(
    root: Path, records: Statuses, grace_s: float, max_age_s: float, now: float | None = None
) -> Reclaimed:
    """Temporaries of dead attempts: untouched ``grace_s`` with the job not running, or ``max_age_s``."""
    now = time.time() if now is None else now
    folders = job_folders(root)
    statuses = records.statuses(folders)
    total = Reclaimed()
    for job_id, folder in folders.items():
        running = statuses.get(job_id) == jobs.RUNNING
        for path in _temporaries(folder):
            try:
                stat = path.stat()
            except OSError:
                continue
            age = now - stat.st_mtime
            if age > max_age_s or (age > grace_s and not running):
                path.unlink(missing_ok=True)
                total.add(Reclaimed(files=1, bytes=stat.st_size))
                log.info("janitor removed a dead temporary", extra={"job_id": job_id, "file": path.name})
    return total


def job_folder(root: Path, job_id: str) -> Path:
    """The folder of one job."""
    return storage.resolve(root, storage.job_dir(job_id))
