"""How a stored job and its files are shown to the client: stored-file lookup and the job JSON."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract import storage

from .db import Job
from .identity import UrlSigner, born
from .retention import expires_at
from .schemas import JobOut, Problem, job_out

#: Documented error replies of the routes that look up a job or one of its files.
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such job or file"}}


def stored(root: Path, key: str | None) -> Path | None:
    """The file behind a storage key, or None when it is unset, unsafe or missing."""
    if not key:
        return None
    try:
        path = storage.resolve(root, key)
    except storage.UnsafeKeyError:
        return None
    return path if path.is_file() else None


def preview_path(root: Path, job: Job, which: str) -> Path | None:
    """A job's before/after still, if it exists."""
    key = job.preview_before_key if which == "before" else job.preview_after_key
    return stored(root, key or storage.preview_key(job.id, which))


@dataclass(frozen=True)
class Viewer:
    """Turns jobs into their JSON; with a signer, every file URL is a signed one valid for ``ttl_s``."""

    root: Path
    signer: UrlSigner | None = None
    ttl_s: int = 3600
    #: RETENTION_S: finished jobs show when they will be deleted (0: never).
    retention_s: float = 0

    def __call__(self, job: Job) -> JobOut:
        """The job JSON, with preview URLs only for stills that exist."""
        signer, ttl_s = self.signer, self.ttl_s

        def link(path: str) -> str:
            return path if signer is None else signer.sign(path, born(job), ttl_s)

        out = job_out(job, lambda j, which: preview_path(self.root, j, which) is not None, link)
        out.expires_at = expires_at(job, self.retention_s)
        return out


def view(root: Path, job: Job) -> JobOut:
    """The job JSON with plain URLs."""
    return Viewer(root)(job)
