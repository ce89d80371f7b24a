"""Pure job state rules: transitions and idempotent event application."""

from __future__ import annotations

import pytest

from backend.jobs import rules as jobs
from contract.catalogue import reason
from contract.messages import DoneEvent, FailedEvent, ProgressEvent, parse_event
from tests.fixtures.jobs import JOB_ID, T0, new_job, progress


def done_event(frames: int = 100) -> DoneEvent:
    return DoneEvent(
        job_id=JOB_ID,
        output_key=f"jobs/{JOB_ID}/output.mp4",
        preview_before_key=f"jobs/{JOB_ID}/preview_before.jpg",
        preview_after_key=None,
        frames=frames,
        width=704,
        height=576,
        seconds=20.0,
    )


def test_first_progress_starts_the_job_and_sets_the_fraction() -> None:
    job = new_job()
    assert jobs.apply_event(job, progress(25))
    assert (job.status, job.frames_done, job.progress, job.fps, job.eta_s) == ("running", 25, 0.25, 10.0, 7.5)


def test_progress_never_goes_backwards_and_duplicates_change_nothing() -> None:
    job = new_job()
    jobs.apply_event(job, progress(50))
    stamp = job.updated_at
    assert not jobs.apply_event(job, progress(50))  # duplicate
    assert not jobs.apply_event(job, progress(30))  # late
    assert (job.frames_done, job.progress, job.updated_at) == (50, 0.5, stamp)
    # A larger total must not pull the bar back either.
    assert jobs.apply_event(job, progress(55, total=200))
    assert job.progress == 0.5 and job.frames_done == 55


def test_running_progress_stays_below_one_until_done() -> None:
    job = new_job()
    jobs.apply_event(job, progress(100))
    assert job.status == "running" and job.progress == jobs.MAX_RUNNING_PROGRESS


def test_done_is_applied_once() -> None:
    job = new_job(jobs.RUNNING)
    assert jobs.apply_event(job, done_event(100), now=T0)
    assert (job.status, job.progress, job.output_width, job.output_height, job.fps) == (
        "done",
        1.0,
        704,
        576,
        5.0,
    )
    assert job.finished_at == T0
    assert not jobs.apply_event(job, done_event(7))
    assert job.output_frames == 100 and job.finished_at == T0
    assert not jobs.apply_event(job, progress(10))
    assert job.status == "done" and job.progress == 1.0


def test_done_keeps_the_vtt_key() -> None:
    job = new_job(jobs.RUNNING)
    event = done_event().model_copy(update={"vtt_key": f"jobs/{JOB_ID}/output.vtt"})
    assert jobs.apply_done(job, event, T0)
    assert job.vtt_key == f"jobs/{JOB_ID}/output.vtt"


def test_done_straight_from_queued_is_accepted() -> None:
    job = new_job()
    assert jobs.apply_done(job, done_event())
    assert job.status == "done"


@pytest.mark.parametrize("event", [progress(10), done_event(), FailedEvent(job_id=JOB_ID, reason="boom")])
def test_events_for_a_cancelled_job_are_ignored(event: ProgressEvent | DoneEvent | FailedEvent) -> None:
    job = new_job(jobs.RUNNING)
    assert jobs.cancel(job)
    assert not jobs.apply_event(job, event)
    assert job.status == "cancelled" and job.output_key is None and job.error is None


def test_permanent_failure_is_terminal() -> None:
    job = new_job(jobs.RUNNING)
    assert jobs.apply_event(job, FailedEvent(job_id=JOB_ID, reason="the video is damaged"))
    assert (job.status, job.error) == ("failed", "the video is damaged")
    assert not jobs.apply_event(job, done_event())
    assert not jobs.apply_event(job, FailedEvent(job_id=JOB_ID, reason="other"))
    assert job.status == "failed" and job.error == "the video is damaged"


def test_transient_failure_requeues_and_work_resumes() -> None:
    job = new_job()
    jobs.apply_event(job, progress(40))
    event = FailedEvent(job_id=JOB_ID, reason="worker lost", permanent=False)
    assert jobs.apply_event(job, event)
    assert job.status == "queued" and job.error == "worker lost"
    assert not jobs.apply_event(job, event)  # duplicate
    assert jobs.apply_event(job, progress(60))
    assert job.status == "running"


def test_a_failure_keeps_its_code_and_parameters() -> None:
    job = new_job(jobs.RUNNING)
    why = reason("job.gave_up", attempts=6)
    assert jobs.apply_event(job, FailedEvent.from_reason(JOB_ID, why))
    assert (job.status, job.error_code, job.error_params) == ("failed", "job.gave_up", {"attempts": 6})
    assert job.error == why.text("en")


def test_a_retry_with_another_code_is_a_change_and_done_clears_the_reason() -> None:
    job = new_job(jobs.RUNNING)
    first = FailedEvent.from_reason(JOB_ID, reason("job.gave_up", attempts=2), permanent=False)
    assert jobs.apply_event(job, first)
    assert not jobs.apply_event(job, first)  # duplicate
    again = FailedEvent.from_reason(JOB_ID, reason("job.gave_up", attempts=3), permanent=False)
    assert jobs.apply_event(job, again)
    assert (job.status, job.error_params) == ("queued", {"attempts": 3})
    assert jobs.apply_event(job, done_event())
    assert (job.error, job.error_code, job.error_params) == (None, None, None)


@pytest.mark.parametrize(
    "body",
    [
        # An event from before codes: it still parses, and the job keeps only the text.
        b'{"v": 1, "type": "failed", "job_id": "%s", "reason": "the video is damaged"}' % JOB_ID.encode(),
        # A code this backend does not know (a newer adapter), or with the wrong parameters.
        b'{"type": "failed", "job_id": "%s", "reason": "x", "code": "media.from_the_future"}'
        % JOB_ID.encode(),
        b'{"type": "failed", "job_id": "%s", "reason": "x", "code": "job.gave_up", "params": {"n": 1}}'
        % JOB_ID.encode(),
    ],
)
def test_failures_without_a_known_code_keep_the_text_only(body: bytes) -> None:
    event = parse_event(body)
    assert isinstance(event, FailedEvent) and event.why() is None
    job = new_job(jobs.RUNNING)
    assert jobs.apply_event(job, event)
    assert job.status == "failed" and job.error == event.reason
    assert (job.error_code, job.error_params) == (None, None)


def test_cancel_only_active_jobs_and_only_finished_ones_are_deletable() -> None:
    for status in (jobs.QUEUED, jobs.RUNNING):
        job = new_job(status)
        assert not jobs.is_deletable(job)
        assert jobs.cancel(job) and job.status == "cancelled"
        assert jobs.is_deletable(job)
        assert not jobs.cancel(job)
    for status in (jobs.DONE, jobs.FAILED):
        job = new_job(status)
        assert not jobs.cancel(job) and job.status == status
        assert jobs.is_deletable(job)


def test_transition_table() -> None:
    assert jobs.can_transition("queued", "running")
    assert jobs.can_transition("running", "done")
    assert not jobs.can_transition("running", "running")
    for terminal in jobs.TERMINAL:
        assert all(not jobs.can_transition(terminal, dst) for dst in jobs.STATUSES)
    assert not jobs.can_transition("nonsense", "done")
