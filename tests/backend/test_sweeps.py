"""The janitor's sweeps on real files in a temp storage root and a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.dispatch.outbox import Outbox
from backend.janitor.records import JobRecords
from backend.janitor.retention import expired_jobs, expires_at
from backend.janitor.stalls import stuck_jobs
from backend.janitor.sweeps import dead_temporaries, orphan_folders, partial_uploads
from backend.jobs import rules as jobs
from backend.jobs.db import Job, Task, utcnow
from backend.jobs.store import JobStore
from contract.models import DEFAULT_MODEL
from tests.fixtures.publishers import RecordingPublisher

HOUR = 3600.0


@pytest.fixture
def db(migrated_sessions: sessionmaker[Session]) -> tuple[JobStore, JobRecords]:
    """A migrated database (SQLite, and PostgreSQL for the queries): its store and the janitor's queries."""
    return JobStore(migrated_sessions), JobRecords(migrated_sessions)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    made = tmp_path / "storage"
    made.mkdir()
    return made


def add_job(store: JobStore, status: str = jobs.DONE, *, ended_ago_s: float = 0, **fields: object) -> Job:
    """A job row in ``status``, finished (or last changed) ``ended_ago_s`` ago."""
    when = utcnow() - timedelta(seconds=ended_ago_s)
    job_id = uuid4().hex
    fields.setdefault("published", True)
    job = Job(
        id=job_id, owner="anon-test", filename="clip.mp4", status=status, model=DEFAULT_MODEL, scale=4,
        input_key=f"jobs/{job_id}/input.mp4", size_bytes=0, input_width=64, input_height=48,
        input_duration_s=1.0, input_fps=25.0, created_at=when, updated_at=when,
        finished_at=when if status in jobs.TERMINAL else None, **fields,
    )  # fmt: skip
    return store.add(job)


def write(root: Path, job_id: str, name: str, size: int = 1000, age_s: float = 0) -> Path:
    """A file of ``size`` bytes in the job's folder, last modified ``age_s`` ago (the folders too)."""
    path = root / "jobs" / job_id / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    age(path, age_s)
    return path


def age(path: Path, seconds: float) -> None:
    """Make ``path`` and its folders up to the job folder look untouched for ``seconds``."""
    moment = time.time() - seconds
    while path.name != "jobs":
        os.utime(path, (moment, moment))
        path = path.parent


def test_a_dead_upload_with_no_job_goes_after_its_grace_period(
    root: Path, db: tuple[JobStore, JobRecords]
) -> None:
    store, records = db
    dead, live = uuid4().hex, uuid4().hex
    write(root, dead, "input.mp4", size=4000, age_s=2 * HOUR)
    write(root, live, "input.mkv", size=10, age_s=60)  # still streaming: touched a minute ago
    kept = add_job(store, jobs.QUEUED)
    write(root, kept.id, "input.mp4", age_s=2 * HOUR)  # its job exists
    other = uuid4().hex
    write(root, other, "input.mp4", age_s=2 * HOUR)
    write(root, other, "output.mp4", age_s=2 * HOUR)  # more than an upload: the orphan sweep's business
    removed = partial_uploads(root, records, grace_s=HOUR)
    assert (removed.files, removed.bytes) == (1, 4000)
    assert not (root / "jobs" / dead).exists()
    assert all((root / "jobs" / job_id).is_dir() for job_id in (live, kept.id, other))


def test_folders_with_no_job_go_unless_kept_or_fresh(root: Path, db: tuple[JobStore, JobRecords]) -> None:
    store, records = db
    orphan, tombstoned, fresh = uuid4().hex, uuid4().hex, uuid4().hex
    write(root, orphan, "output.mp4", size=500, age_s=7 * HOUR)
    write(root, orphan, "segments/00000.mp4", size=300, age_s=7 * HOUR)
    write(root, tombstoned, "CANCELLED", age_s=7 * HOUR)
    write(root, fresh, "output.mp4", age_s=7 * HOUR)
    write(root, fresh, "preview_after.jpg", age_s=60)  # something in it is recent
    job = add_job(store, jobs.DONE)
    write(root, job.id, "output.mp4", age_s=7 * HOUR)
    (root / "jobs" / "not-a-job").mkdir()
    age(root / "jobs" / "not-a-job", 7 * HOUR)
    removed = orphan_folders(root, records, grace_s=6 * HOUR, kept=lambda: {tombstoned})
    assert (removed.files, removed.bytes) == (2, 800)
    assert not (root / "jobs" / orphan).exists()
    for name in (tombstoned, fresh, job.id, "not-a-job"):
        assert (root / "jobs" / name).is_dir(), name


def test_dead_attempts_temporaries_go_but_a_running_attempts_stay(
    root: Path, db: tuple[JobStore, JobRecords]
) -> None:
    store, records = db
    running, done = add_job(store, jobs.RUNNING), add_job(store, jobs.DONE)
    # A running job: its temporaries may belong to the live attempt, unless they are very old.
    live = write(root, running.id, ".output.1a2b3c4d5e6f.part.mp4", age_s=2 * HOUR)
    ancient = write(root, running.id, "segments/.00003.aaaaaaaaaaaa.part.mp4", size=700, age_s=30 * HOUR)
    # A finished job: any temporary past the grace period is a dead attempt's.
    dead = write(root, done.id, ".preview_after.0f0f0f0f0f0f.part.jpg", size=200, age_s=2 * HOUR)
    muxed = write(root, done.id, ".output.beefbeefbeef.video.part.mp4", size=100, age_s=2 * HOUR)
    recent = write(root, done.id, ".output.cafecafecafe.part.mp4", age_s=60)
    final = write(root, done.id, "output.mp4", age_s=40 * HOUR)
    removed = dead_temporaries(root, records, grace_s=HOUR, max_age_s=24 * HOUR)
    assert (removed.files, removed.bytes) == (3, 1000)
    assert not ancient.exists() and not dead.exists() and not muxed.exists()
    assert live.exists() and recent.exists() and final.exists()


def test_retention_deletes_jobs_finished_long_enough_ago_with_their_files(
    root: Path, db: tuple[JobStore, JobRecords]
) -> None:
    store, records = db
    week = 7 * 24 * HOUR
    old = add_job(store, jobs.DONE, ended_ago_s=week + HOUR)
    failed = add_job(store, jobs.FAILED, ended_ago_s=week + 60)
    recent = add_job(store, jobs.DONE, ended_ago_s=week - HOUR)
    active = add_job(store, jobs.RUNNING, ended_ago_s=2 * week)
    for job in (old, failed, recent, active):
        write(root, job.id, "input.mp4", size=100)
    write(root, old.id, "output.mp4", size=900)
    write(root, old.id, "output.vtt", size=50)
    write(root, old.id, "preview_before.jpg", size=25)
    assert expired_jobs(root, records, store, retention_s=0).files == 0  # 0 keeps everything
    removed = expired_jobs(root, records, store, retention_s=week)
    assert (removed.files, removed.bytes) == (5, 1175)
    assert store.get(old.id) is None and store.get(failed.id) is None
    assert not (root / "jobs" / old.id).exists() and not (root / "jobs" / failed.id).exists()
    assert store.get(recent.id) is not None and (root / "jobs" / recent.id / "input.mp4").exists()
    assert store.get(active.id) is not None and (root / "jobs" / active.id / "input.mp4").exists()


def test_expiry_time_of_a_job() -> None:
    ended = utcnow()
    done = Job(status=jobs.DONE, finished_at=ended, updated_at=ended)
    assert expires_at(done, 3600) == ended + timedelta(hours=1)
    assert expires_at(done, 0) is None
    naive = Job(status=jobs.CANCELLED, finished_at=None, updated_at=ended.replace(tzinfo=None))
    assert expires_at(naive, 60) == ended + timedelta(minutes=1)
    assert expires_at(Job(status=jobs.RUNNING, updated_at=ended), 3600) is None


def test_segment_temporaries_of_a_segmented_running_job_follow_the_same_rule(
    root: Path, db: tuple[JobStore, JobRecords]
) -> None:
    store, records = db
    tasks = [Task(index=0, kind="segment", count=1, status=jobs.RUNNING, published=True)]
    job = add_job(store, jobs.RUNNING, tasks=tasks)
    temp = write(root, job.id, "segments/.00000.abcdefabcdef.part.mp4", age_s=2 * HOUR)
    assert dead_temporaries(root, records, grace_s=HOUR, max_age_s=24 * HOUR).files == 0
    assert temp.exists()


class Gauge:
    """Records what the stuck sweep reports (``vsr_jobs_stuck``)."""

    def __init__(self) -> None:
        self.values: list[int] = []

    def __call__(self, value: int) -> None:
        self.values.append(value)


def _mark_published(job: Job) -> bool:
    job.published = True
    return True


def test_a_stuck_job_is_republished_once_then_failed(db: tuple[JobStore, JobRecords]) -> None:
    store, records = db
    after = 30 * 60.0
    stuck = add_job(store, jobs.RUNNING, ended_ago_s=after + 60, frames_done=10)
    busy = add_job(store, jobs.RUNNING, ended_ago_s=60)
    waiting = add_job(store, jobs.QUEUED, ended_ago_s=10 * after)  # published, maybe waiting in the broker
    unpublished = add_job(store, jobs.QUEUED, ended_ago_s=10 * after, published=False)  # its turn is not due
    gauge = Gauge()
    stuck_jobs(records, store, after, backlog=lambda: 3, gauge=gauge)
    job = store.get(stuck.id)
    assert job is not None
    assert (job.status, job.published, job.error_code) == (jobs.QUEUED, False, "job.republished")
    assert store.unpublished() == [unpublished.id, stuck.id]  # the outbox sends it again
    assert gauge.values == [1]
    for other in (busy, waiting, unpublished):
        again = store.get(other.id)
        assert again is not None and again.status == other.status and again.error_code is None
    # The outbox re-published it, and still nothing happens for another STUCK_AFTER_S.
    store.update(stuck.id, _mark_published)
    later = utcnow() + timedelta(seconds=after + 60)
    failures: list[str] = []
    stuck_jobs(
        records,
        store,
        after,
        backlog=lambda: 0,
        gauge=gauge,
        clock=lambda: later,
        failed=failures.append,
    )
    assert failures == [stuck.id]  # counted in vsr_job_failures, its cancel marker written
    job = store.get(stuck.id)
    assert job is not None and (job.status, job.error_code) == (jobs.FAILED, "job.stalled")
    assert job.error_params == {"minutes": 30}
    # Now the queue is empty and time has passed: busy and waiting are quiet too (re-published in turn).
    assert gauge.values == [1, 3]


def test_a_published_queued_job_is_stuck_only_when_the_broker_queue_is_empty(
    db: tuple[JobStore, JobRecords],
) -> None:
    store, records = db
    lost = add_job(store, jobs.QUEUED, ended_ago_s=3 * HOUR)
    gauge = Gauge()
    stuck_jobs(records, store, HOUR, backlog=lambda: -1, gauge=gauge)  # depth unknown: not judged
    stuck_jobs(records, store, HOUR, backlog=lambda: 0, gauge=gauge)  # nothing in the queue: it was lost
    assert gauge.values == [0, 1]
    job = store.get(lost.id)
    assert job is not None and (job.status, job.published) == (jobs.QUEUED, False)


def test_a_stuck_segmented_job_sends_its_unfinished_tasks_again(db: tuple[JobStore, JobRecords]) -> None:
    store, records = db
    tasks = [
        Task(index=0, kind="segment", count=2, status=jobs.DONE, published=True),
        Task(index=1, kind="segment", count=2, status=jobs.RUNNING, published=True),
    ]
    job = add_job(store, jobs.RUNNING, ended_ago_s=2 * HOUR, tasks=tasks)
    stuck_jobs(records, store, HOUR, backlog=lambda: 0, gauge=Gauge())
    again = store.get(job.id)
    assert again is not None and again.status == jobs.RUNNING
    assert [(t.status, t.published) for t in again.tasks] == [(jobs.DONE, True), (jobs.QUEUED, False)]
    assert store.unpublished() == [job.id]


def test_the_outbox_sends_a_republished_job_again(db: tuple[JobStore, JobRecords]) -> None:
    store, records = db
    whole = add_job(store, jobs.RUNNING, ended_ago_s=2 * HOUR)
    tasks = [
        Task(index=0, kind="segment", count=2, status=jobs.DONE, published=True),
        Task(index=1, kind="segment", count=2, status=jobs.RUNNING, published=True),
    ]
    segmented = add_job(store, jobs.RUNNING, ended_ago_s=2 * HOUR, tasks=tasks)
    publisher = RecordingPublisher()
    outbox = Outbox(store, publisher)
    assert outbox.publish_pending() == 0  # both were published already
    stuck_jobs(records, store, HOUR, backlog=lambda: 0, gauge=Gauge())
    assert outbox.publish_pending() == 2
    sent = {(m.job_id, m.kind, m.segment.index if m.segment else None) for m in publisher.sent}
    assert sent == {(whole.id, "job", None), (segmented.id, "segment", 1)}
    assert store.unpublished() == []
