"""How a stored job and its files are shown to the client: stored-file lookup and the job JSON."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.api.identity import UrlSigner, born
from backend.api.schemas import JobOut, Problem, QueueOut, job_out
from backend.dispatch import places
from backend.dispatch.broker import QueueState
from backend.janitor.retention import expires_at
from backend.jobs import rules as jobs
from backend.jobs.db import Job
from backend.jobs.store import JobStore
from contract import storage

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


class QueueBoard:
    """Queue places of the waiting jobs, loaded once per request, on the first waiting job shown."""

    def __init__(self, load: Callable[[], Mapping[str, places.Place]]) -> None:
        self._load = load
        self._places: Mapping[str, places.Place] | None = None

    def __call__(self, job: Job) -> QueueOut | None:
        """The job's place, or None when it is not waiting."""
        if job.status != jobs.QUEUED:
            return None
        if self._places is None:
            self._places = self._load()
        place = self._places.get(job.id)
        return None if place is None else QueueOut(position=place.position, starts_in_s=place.starts_in_s)


def queue_places(
    store: JobStore, weights: Mapping[str, int], seen: Callable[[], QueueState | None]
) -> Callable[[], dict[str, places.Place]]:
    """Reads what the places depend on: active jobs, the owners' last turns, speeds, the task queue seen."""

    def load() -> dict[str, places.Place]:
        active = store.active()
        served = store.served({job.owner for job in active}, max(weights.values(), default=1))
        queue = seen()
        adapters, ready = (queue.consumers, queue.ready) if queue is not None else (0, None)
        return places.places(active, served, weights, adapters=adapters, fps=store.recent_fps(), ready=ready)

    return load


@dataclass(frozen=True)
class Viewer:
    """Turns jobs into their JSON; with a signer, every file URL is a signed one valid for ``ttl_s``."""

    root: Path
    signer: UrlSigner | None = None
    ttl_s: int = 3600
    #: Fills ``queue`` of waiting jobs (absent: always null).
    queue: QueueBoard | None = None
    #: RETENTION_S: finished jobs show when they will be deleted (0: never).
    retention_s: float = 0

    def __call__(self, job: Job) -> JobOut:
        """The job JSON, with preview URLs only for stills that exist."""
        signer, ttl_s = self.signer, self.ttl_s

        def link(path: str) -> str:
            return path if signer is None else signer.sign(path, born(job), ttl_s)

        out = job_out(job, lambda j, which: preview_path(self.root, j, which) is not None, link)
        if self.queue is not None:
            out.queue = self.queue(job)
        out.expires_at = expires_at(job, self.retention_s)
        return out


def view(root: Path, job: Job) -> JobOut:
    """The job JSON with plain URLs."""
    return Viewer(root)(job)
