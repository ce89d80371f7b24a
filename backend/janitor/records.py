"""The janitor's queries on the jobs table: which folders have a job, what has expired, what is stuck."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.jobs import rules as jobs
from backend.jobs.db import Job

#: Ids per IN (...) query: far below every database's limit on bound parameters.
_BATCH = 500


class JobRecords:
    """Read-mostly queries of the sweeps; changes to one job go through ``JobStore.update``."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def statuses(self, job_ids: Iterable[str]) -> dict[str, str]:
        """Status of each of ``job_ids`` that has a row (missing ids have none)."""
        ids = list(job_ids)
        found: dict[str, str] = {}
        with self._sessions() as session:
            for start in range(0, len(ids), _BATCH):
                rows = session.execute(
                    select(Job.id, Job.status).where(Job.id.in_(ids[start : start + _BATCH]))
                )
                found.update({job_id: status for job_id, status in rows})
        return found

    def finished_before(self, moment: datetime, limit: int = 200) -> list[str]:
        """Finished jobs that ended before ``moment`` (no end time: their last change counts)."""
        ended = func.coalesce(Job.finished_at, Job.updated_at)
        query = (
            select(Job.id).where(Job.status.in_(jobs.TERMINAL), ended < moment).order_by(ended).limit(limit)
        )
        with self._sessions() as session:
            return list(session.scalars(query))

    def quiet_since(self, moment: datetime, *, queued: bool) -> list[str]:
        """Published running jobs (and published queued ones when ``queued``) unchanged since ``moment``."""
        statuses = [jobs.RUNNING, jobs.QUEUED] if queued else [jobs.RUNNING]
        query = select(Job.id).where(
            Job.status.in_(statuses), Job.published.is_(True), Job.updated_at < moment
        )
        with self._sessions() as session:
            return list(session.scalars(query.order_by(Job.updated_at)))
