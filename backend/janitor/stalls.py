"""Stuck jobs: published or running, yet no progress for ``STUCK_AFTER_S``.

The first time, the job is sent again (marked unpublished, so the outbox re-publishes it) with the
reason ``job.republished``; if it is still quiet after that, it fails with ``job.stalled``. A queued job
counts only while the broker's task queue is empty: otherwise it may just be waiting its turn there.
Jobs the outbox has not published yet (waiting in the database) are never stuck.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from backend.janitor.sweeps import Reclaimed
from backend.jobs import rules as jobs
from backend.jobs.db import Job, utcnow
from contract.catalogue import reason
from contract.messages import FailedEvent

log = logging.getLogger(__name__)

REPUBLISHED = "job.republished"


class Quiet(Protocol):
    """Published jobs unchanged since a moment (``backend.janitor.records.JobRecords``)."""

    def quiet_since(self, moment: datetime, *, queued: bool) -> list[str]: ...


class Locker(Protocol):
    """Changes one job under its row lock (``backend.jobs.store.JobStore.update``)."""

    def update(self, job_id: str, change: Callable[[Job], bool]) -> tuple[Job | None, bool]: ...


def _republish(job: Job, minutes: int, now: datetime) -> None:
    """Send the job again: a whole job goes back to the queue, a segmented one re-sends unfinished tasks."""
    event = FailedEvent.from_reason(job.id, reason(REPUBLISHED, minutes=minutes), permanent=False)
    jobs.apply_failed(job, event, now)
    job.published = False
    for task in job.tasks:
        if task.status != jobs.DONE:
            task.published, task.status = False, jobs.QUEUED
    job.updated_at = now


def handle_stuck(job: Job, after_s: float, now: datetime) -> bool:
    """Re-publish a stuck job the first time, fail it the second; False when it moved meanwhile."""
    updated = job.updated_at if job.updated_at.tzinfo else job.updated_at.replace(tzinfo=now.tzinfo)
    if job.status not in jobs.ACTIVE or not job.published or updated >= now - timedelta(seconds=after_s):
        return False
    minutes = max(1, round(after_s / 60))
    extra = {"job_id": job.id, "status": job.status, "owner": job.owner}
    if job.error_code == REPUBLISHED:
        jobs.apply_failed(job, FailedEvent.from_reason(job.id, reason("job.stalled", minutes=minutes)), now)
        log.warning("stuck job failed: no progress for %d min after re-publishing", minutes, extra=extra)
        return True
    log.warning("stuck job re-published: no progress for %d min", minutes, extra=extra)
    _republish(job, minutes, now)
    return True


def stuck_jobs(
    records: Quiet,
    store: Locker,
    after_s: float,
    backlog: Callable[[], int],
    gauge: Callable[[int], None],
    clock: Callable[[], datetime] = utcnow,
    failed: Callable[[str], None] = lambda job_id: None,
) -> Reclaimed:
    """Find the stuck jobs, count them (``vsr_jobs_stuck``), re-publish or fail each (then ``failed(id)``)."""
    now = clock()
    found = records.quiet_since(now - timedelta(seconds=after_s), queued=backlog() == 0)
    gauge(len(found))
    for job_id in found:
        job, changed = store.update(job_id, lambda locked: handle_stuck(locked, after_s, now))
        if changed and job is not None and job.status == jobs.FAILED:
            failed(job_id)
    return Reclaimed()
