"""Retries the creator can see (issue 26): the job's progress always belongs to one run, and its JSON says
which attempt of how many it is on and why it was last retried (overload included)."""

from __future__ import annotations

from backend.api.schemas import JobOut, job_out
from backend.jobs import rules as jobs
from backend.jobs.db import Job
from contract import limits
from contract.catalogue import Reason, reason
from contract.messages import ProgressEvent, RetryEvent
from tests.fixtures.jobs import JOB_ID, T0, new_job

TS = T0.timestamp()
OVERLOADED = reason("job.model_overloaded")
CALL_FAILED = reason("job.triton_call_failed", call="inference", detail="boom")


def step(done: int, run: int, attempt: int = 1, total: int = 100, ts: float = TS) -> ProgressEvent:
    return ProgressEvent(
        job_id=JOB_ID, frames_done=done, frames_total=total, fps=5.0, run=run, attempt=attempt, attempts=5,
        ts=ts,
    )  # fmt: skip


def retried(run: int, attempt: int, why: Reason = OVERLOADED, infra: bool = True) -> RetryEvent:
    return RetryEvent.from_reason(
        JOB_ID, why, attempt=attempt, attempts=5, delay_s=4, infra=infra, run=run
    ).model_copy(update={"ts": TS})


def shown(job: Job) -> JobOut:
    return job_out(job, lambda _j, _w: False)


def test_a_fresh_job_is_on_attempt_one_of_the_default_count_with_no_retry() -> None:
    out = shown(new_job())
    assert (out.attempt, out.attempts, out.run, out.retried) == (1, limits.TASK_ATTEMPTS, 1, None)


def test_an_overload_retry_shows_why_keeps_the_attempt_and_restarts_the_bar_with_the_frames() -> None:
    job = new_job()
    assert jobs.apply_progress(job, step(43, run=1), T0)
    assert jobs.apply_retry(job, retried(run=2, attempt=1), T0)
    out = shown(job)
    assert out.status == "queued" and (out.progress, out.frames_done) == (0.0, 0), "never 43 % · frame 0"
    assert (out.attempt, out.attempts, out.run) == (1, 5, 2)
    assert out.retried is not None and out.retried.overloaded and out.retried.infra
    assert out.retried.code == "job.model_overloaded" and out.retried.detail == str(OVERLOADED)


def test_a_late_progress_event_of_the_old_run_is_ignored() -> None:
    job = new_job()
    jobs.apply_progress(job, step(43, run=1), T0)
    jobs.apply_retry(job, retried(run=2, attempt=1), T0)
    assert not jobs.apply_progress(job, step(50, run=1), T0), "the old run's frames are not this run's"
    assert (job.frames_done, job.progress, job.status) == (0, 0.0, jobs.QUEUED)
    assert job.retry_at is not None, "the retry has not started"


def test_the_new_runs_progress_starts_it_and_the_reason_stays_on_the_card() -> None:
    job = new_job()
    jobs.apply_progress(job, step(43, run=1), T0)
    jobs.apply_retry(job, retried(run=3, attempt=2, why=CALL_FAILED, infra=False), T0)
    assert jobs.apply_progress(job, step(5, run=3, attempt=2), T0)
    out = shown(job)
    assert out.status == "running" and (out.frames_done, out.progress) == (5, 0.05)
    assert out.retry is None, "the scheduled retry has started"
    assert out.retried is not None and not out.retried.overloaded and not out.retried.infra
    assert (out.attempt, out.run) == (2, 3)


def test_a_redelivery_nobody_announced_restarts_the_bar_with_its_first_event() -> None:
    job = new_job()
    jobs.apply_progress(job, step(60, run=1), T0)
    assert jobs.apply_progress(job, step(2, run=2, attempt=2), T0), "a crashed worker's task, delivered again"
    assert (job.frames_done, job.progress, job.attempt, job.run) == (2, 0.02, 2, 2)


def test_a_late_retry_of_an_older_run_changes_nothing() -> None:
    job = new_job()
    jobs.apply_progress(job, step(10, run=3, attempt=2), T0)
    assert not jobs.apply_retry(job, retried(run=2, attempt=1), T0)
    assert (job.frames_done, job.status, job.attempt) == (10, jobs.RUNNING, 2)


def test_within_a_run_progress_never_goes_back() -> None:
    job = new_job()
    jobs.apply_progress(job, step(40, run=1), T0)
    assert not jobs.apply_progress(job, step(30, run=1), T0)
    assert (job.frames_done, job.progress) == (40, 0.4)


def test_a_finished_job_shows_its_attempt_but_no_retry_reason() -> None:
    job = new_job()
    jobs.apply_progress(job, step(40, run=1), T0)
    jobs.apply_retry(job, retried(run=2, attempt=1), T0)
    job.status = jobs.DONE
    out = shown(job)
    assert out.retried is None and out.attempt == 1 and out.run == 2
