"""Job records in the database: create, read, apply events, cancel, delete, outbox queries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import func, or_, select, union_all
from sqlalchemy.orm import Session, sessionmaker

from backend.jobs import rules as jobs
from backend.jobs.db import Job, Speed, Task, Tombstone, utcnow
from contract.messages import DoneEvent, FailedEvent, ProgressEvent

log = logging.getLogger(__name__)


class JobStore:
    """All database access for jobs; every method is one short transaction."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def _locked(self, session: Session, job_id: str) -> Job | None:
        # FOR UPDATE on PostgreSQL; SQLite transactions are already exclusive (BEGIN IMMEDIATE).
        return session.scalars(select(Job).where(Job.id == job_id).with_for_update()).first()

    def add(self, job: Job) -> Job:
        """Insert a new job."""
        with self._tx() as session:
            session.add(job)
        return job

    def get(self, job_id: str) -> Job | None:
        """One job or None."""
        with self._tx() as session:
            return session.get(Job, job_id)

    def newest(self, limit: int = 500, *, owner: str | None = None) -> list[Job]:
        """Jobs of ``owner`` (everyone's when None), newest first."""
        query = select(Job).order_by(Job.created_at.desc(), Job.id).limit(limit)
        if owner is not None:
            query = query.where(Job.owner == owner)
        with self._tx() as session:
            return list(session.scalars(query))

    def owned(self, owner: str) -> list[tuple[str, str]]:
        """(id, status) of every job of ``owner``: what the quotas count, without loading whole rows."""
        with self._tx() as session:
            return [
                (row.id, row.status)
                for row in session.execute(select(Job.id, Job.status).where(Job.owner == owner))
            ]

    def apply_event(self, event: ProgressEvent | DoneEvent | FailedEvent) -> Job | None:
        """Apply an adapter event and commit; returns the job when it changed."""
        with self._tx() as session:
            job = self._locked(session, event.job_id)
            if job is None:
                log.info("event for unknown job ignored", extra={"job_id": event.job_id, "event": event.type})
                return None
            before = job.status
            if not jobs.apply_event(job, event):
                return None
            if job.status == jobs.DONE and before != jobs.DONE and _counts_for_speed(job):
                session.add(Speed(model=job.model, fps=float(job.fps or 0)))
            if job.status != before:
                log.info(
                    "job %s -> %s",
                    before,
                    job.status,
                    extra={"job_id": job.id, "event": event.type, "status": job.status},
                )
            return job

    def update(self, job_id: str, change: Callable[[Job], bool]) -> tuple[Job | None, bool]:
        """Lock a job, run ``change`` on it and commit; returns the job and whether it changed."""
        with self._tx() as session:
            job = self._locked(session, job_id)
            if job is None:
                return None, False
            return job, change(job)

    def delete(self, job_id: str) -> bool:
        """Remove a job's row, leaving its tombstone; False when it is missing.

        The tombstone is the cancel of a job deleted while active: the marker written after this commit
        (``backend.jobs.cancels``) stops its queued or running tasks, however long they outlive the row.
        """
        with self._tx() as session:
            job = self._locked(session, job_id)
            if job is None:
                return False
            session.add(Tombstone(job_id=job.id, owner=job.owner, deleted_at=utcnow()))
            session.delete(job)
            return True

    # ---- cancel markers (backend.jobs.cancels) -----------------------------------------------------------

    def stopped_ids(self) -> list[str]:
        """Ids whose tasks must not run: cancelled jobs and tombstones (each should have a cancel marker)."""
        with self._tx() as session:
            cancelled = session.scalars(select(Job.id).where(Job.status == jobs.CANCELLED))
            return [*cancelled, *session.scalars(select(Tombstone.job_id))]

    def known_ids(self, ids: Collection[str]) -> set[str]:
        """Those of ``ids`` that have a job row or a tombstone."""
        if not ids:
            return set()
        with self._tx() as session:
            rows = session.scalars(select(Job.id).where(Job.id.in_(ids)))
            graves = session.scalars(select(Tombstone.job_id).where(Tombstone.job_id.in_(ids)))
            return {*rows, *graves}

    def forget_tombstones(self, before: datetime) -> list[str]:
        """Remove the tombstones of jobs deleted before ``before``; returns their ids."""
        with self._tx() as session:
            old = list(session.scalars(select(Tombstone).where(Tombstone.deleted_at < before)))
            for grave in old:
                session.delete(grave)
            return [grave.job_id for grave in old]

    def unpublished(self, limit: int = 100) -> list[str]:
        """Ids of active jobs whose whole-video message or a task row is not confirmed yet, oldest first."""
        with self._tx() as session:
            pending_task = (
                select(Task.job_id)
                .where(Task.job_id == Job.id, Task.published.is_(False), Task.status != jobs.DONE)
                .exists()
            )
            query = (
                select(Job.id)
                .where(Job.status.in_(jobs.ACTIVE), or_(Job.published.is_(False), pending_task))
                .order_by(Job.created_at)
                .limit(limit)
            )
            return list(session.scalars(query))

    def active(self) -> list[Job]:
        """Queued and running jobs with their tasks, oldest first (what the fair queue orders)."""
        with self._tx() as session:
            query = select(Job).where(Job.status.in_(jobs.ACTIVE)).order_by(Job.created_at, Job.id)
            return list(session.scalars(query))

    def served(self, owners: Collection[str], depth: int = 1) -> dict[str, list[datetime]]:
        """The ``depth`` latest turns (publish times of jobs and tasks) of each owner, newest first."""
        if not owners:
            return {}
        turns = union_all(
            select(Job.owner.label("owner"), Job.published_at.label("at")).where(
                Job.owner.in_(owners), Job.published_at.is_not(None)
            ),
            select(Job.owner, Task.published_at)
            .join(Task, Task.job_id == Job.id)
            .where(Job.owner.in_(owners), Task.published_at.is_not(None)),
        ).subquery()
        rank = func.row_number().over(partition_by=turns.c.owner, order_by=turns.c.at.desc())
        ranked = select(turns.c.owner, turns.c.at, rank.label("n")).subquery()
        query = select(ranked.c.owner, ranked.c.at).where(ranked.c.n <= depth).order_by(ranked.c.n)
        found: dict[str, list[datetime]] = {}
        with self._tx() as session:
            for owner, at in session.execute(query):
                found.setdefault(owner, []).append(at)
        return found

    def counts(self) -> dict[str, int]:
        """Number of jobs in each status (every status present)."""
        with self._tx() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
        counts = dict.fromkeys(jobs.STATUSES, 0)
        counts.update({status: int(n) for status, n in rows})
        return counts

    def recent_fps(self, per_model: int = 10) -> dict[str, float]:
        """Mean upscaling speed (output frames per second) of each model's latest upscale-only done jobs."""
        with self._tx() as session:
            rows = session.execute(
                select(Speed.model, Speed.fps)
                .order_by(Speed.finished_at.desc(), Speed.id.desc())
                .limit(per_model * 20)
            ).all()
        speeds: dict[str, list[float]] = {}
        for model, fps in rows:
            if len(speeds.setdefault(model, [])) < per_model:
                speeds[model].append(float(fps))
        return {model: round(sum(v) / len(v), 2) for model, v in speeds.items()}

    def ping(self) -> None:
        """Raise when the database cannot be reached."""
        with self._tx() as session:
            session.execute(select(1))


def _counts_for_speed(job: Job) -> bool:
    """Only plain upscaling says how fast a model is; described jobs spend time elsewhere."""
    return bool(job.fps) and job.upscale and job.describe is None
