"""Job state rules: allowed transitions and idempotent application of adapter events.

The adapter delivers events at least once and possibly out of order, so every rule here is
idempotent: progress never goes backwards, a duplicate or late event changes nothing, ``done``
is applied once, and nothing moves a job out of a terminal state (done, failed, cancelled).
These functions only touch the given ``Job`` object; callers own sessions and commits.
"""

from __future__ import annotations

from datetime import datetime

from contract.messages import DoneEvent, FailedEvent, ProgressEvent

from .db import Job, utcnow

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
STATUSES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
ACTIVE = frozenset({QUEUED, RUNNING})
TERMINAL = frozenset({DONE, FAILED, CANCELLED})

#: Every allowed status change; anything else is refused or ignored.
TRANSITIONS: dict[str, frozenset[str]] = {
    QUEUED: frozenset({RUNNING, DONE, FAILED, CANCELLED}),
    # A transient failure sends a running job back to the queue for redelivery.
    RUNNING: frozenset({QUEUED, DONE, FAILED, CANCELLED}),
    DONE: frozenset(),
    FAILED: frozenset(),
    CANCELLED: frozenset(),
}
#: A running job's progress stays below 1 until the done event lands.
MAX_RUNNING_PROGRESS = 0.99


def can_transition(src: str, dst: str) -> bool:
    """Whether a job may move from ``src`` to ``dst``."""
    return dst in TRANSITIONS.get(src, frozenset())


def _move(job: Job, dst: str, now: datetime) -> None:
    job.status = dst
    job.updated_at = now
    if dst in TERMINAL:
        job.finished_at = now


def apply_progress(job: Job, event: ProgressEvent, now: datetime | None = None) -> bool:
    """Apply a progress event; returns whether the job changed."""
    now = now or utcnow()
    if job.status not in ACTIVE:
        return False
    if event.frames_done < job.frames_done:
        return False  # late event from before a newer one
    total = event.frames_total or job.frames_total
    progress = min(event.frames_done / total, MAX_RUNNING_PROGRESS) if total else job.progress
    progress = max(progress, job.progress)
    changed = (
        job.status != RUNNING
        or event.frames_done != job.frames_done
        or total != job.frames_total
        or progress != job.progress
        or event.fps != job.fps
        or event.eta_s != job.eta_s
    )
    if not changed:
        return False
    if job.status != RUNNING:
        _move(job, RUNNING, now)
    job.frames_done = event.frames_done
    job.frames_total = total
    job.progress = progress
    job.fps = event.fps
    job.eta_s = event.eta_s
    job.updated_at = now
    return True


def apply_done(job: Job, event: DoneEvent, now: datetime | None = None) -> bool:
    """Apply the done event once; returns whether the job changed."""
    now = now or utcnow()
    if not can_transition(job.status, DONE):
        return False
    _move(job, DONE, now)
    job.progress = 1.0
    job.frames_done = event.frames
    job.frames_total = event.frames
    job.eta_s = 0.0
    job.error = None
    job.output_key = event.output_key
    job.vtt_key = event.vtt_key
    job.preview_before_key = event.preview_before_key
    job.preview_after_key = event.preview_after_key
    job.output_width = event.width
    job.output_height = event.height
    job.output_frames = event.frames
    job.seconds = event.seconds
    job.fps = event.frames / event.seconds if event.seconds > 0 else job.fps
    return True


def apply_failed(job: Job, event: FailedEvent, now: datetime | None = None) -> bool:
    """Fail the job (permanent) or put it back in the queue (transient); returns whether it changed."""
    now = now or utcnow()
    if job.status not in ACTIVE:
        return False
    if not event.permanent:
        if job.status == QUEUED and job.error == event.reason:
            return False
        job.error = event.reason
        job.eta_s = None
        if job.status != QUEUED:
            _move(job, QUEUED, now)
        job.updated_at = now
        return True
    _move(job, FAILED, now)
    job.error = event.reason
    job.eta_s = None
    return True


def apply_event(
    job: Job,
    event: ProgressEvent | DoneEvent | FailedEvent,
    now: datetime | None = None,
) -> bool:
    """Apply any adapter event to ``job``; returns whether it changed."""
    if isinstance(event, ProgressEvent):
        return apply_progress(job, event, now)
    if isinstance(event, DoneEvent):
        return apply_done(job, event, now)
    return apply_failed(job, event, now)


def cancel(job: Job, now: datetime | None = None) -> bool:
    """Cancel an active job; returns False when it already finished."""
    if not can_transition(job.status, CANCELLED):
        return False
    _move(job, CANCELLED, now or utcnow())
    job.eta_s = None
    return True


def is_deletable(job: Job) -> bool:
    """Finished jobs (done, failed, cancelled) may be deleted with their files."""
    return job.status in TERMINAL
