"""Job state rules: allowed transitions and idempotent application of adapter events.

The adapter delivers events at least once and possibly out of order, so every rule here is
idempotent: progress never goes backwards within a run, a duplicate or late event changes nothing,
``done`` is applied once, and nothing moves a job out of a terminal state (done, failed, cancelled).

A *run* is one delivery of the job's task (``ProgressEvent.run``): a retry, a wait for the model server
or a crash redelivery starts a new run from frame 0. The job's progress columns always belong to one run:
a new run resets them (the bar goes back to 0 rather than mixing one run's percentage with another's
frames), and a late event of an earlier run is ignored.
These functions only touch the given ``Job`` object; callers own sessions and commits.
"""

from __future__ import annotations

from datetime import UTC, datetime

from backend.intake import segments
from backend.jobs.db import Job, Task, utcnow
from contract.messages import ASSEMBLE, SEGMENT, DoneEvent, FailedEvent, ProgressEvent, RetryEvent

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
#: The note of pictures replaced for damage: one per job, its counts summed over segments.
DAMAGE_NOTE = "note.frames_damaged"


def can_transition(src: str, dst: str) -> bool:
    """Whether a job may move from ``src`` to ``dst``."""
    return dst in TRANSITIONS.get(src, frozenset())


def _move(job: Job, dst: str, now: datetime) -> None:
    job.status = dst
    job.updated_at = now
    if dst in TERMINAL:
        job.finished_at = now


def segment_tasks(job: Job) -> list[Task]:
    """The job's segment tasks in order (empty for a job that runs as one task)."""
    return [task for task in job.tasks if task.kind == SEGMENT]


def assembly_task(job: Job) -> Task | None:
    """The job's assembly task, once its last segment was stored."""
    return next((task for task in job.tasks if task.kind == ASSEMBLE), None)


def unpublished_tasks(job: Job) -> list[Task]:
    """The job's segment / assembly tasks the broker has not confirmed yet (finished ones need nothing)."""
    return [task for task in job.tasks if not task.published and task.status != DONE]


def needs_publishing(job: Job) -> bool:
    """Whether the outbox has something to send for this job: its whole-video message or a task row."""
    return job.status in ACTIVE and (not job.published or bool(unpublished_tasks(job)))


def queue_assembly(job: Job) -> Task | None:
    """Once every segment is stored, add the assembly task, queued for the outbox; at most once per job.

    Runs in the transaction that stored the last segment, with the job row locked, so duplicate done
    events or two backends still create one assembly row.
    """
    tasks = segment_tasks(job)
    if not tasks or assembly_task(job) is not None or any(t.status != DONE for t in tasks):
        return None
    task = segments.assembly_task(len(tasks))
    job.tasks.append(task)
    return task


def _segment(job: Job, index: int | None) -> Task | None:
    return next((t for t in segment_tasks(job) if t.index == index), None)


def _sum_segments(job: Job, now: datetime) -> None:
    """Job progress = the sum over its segments; speed = the sum of the running segments' speeds."""
    tasks = segment_tasks(job)
    done = sum(t.frames_done for t in tasks)
    total = sum(t.frames_total for t in tasks) or job.frames_total
    fps = sum(t.fps for t in tasks if t.status == RUNNING)
    job.frames_done = done
    job.frames_total = total
    job.progress = max(job.progress, min(done / total, MAX_RUNNING_PROGRESS) if total else 0.0)
    job.fps = round(fps, 2)
    job.eta_s = (total - done) / fps if fps > 0 else None
    if job.status != RUNNING:
        _move(job, RUNNING, now)
    job.updated_at = now


def _segment_progress(job: Job, event: ProgressEvent, now: datetime) -> bool:
    task = _segment(job, event.segment)
    if task is None or task.status == DONE:
        return False  # unknown segment, or a late event of a finished one
    before = (task.frames_done, task.frames_total, task.fps, task.status)
    # A redone segment (its first adapter crashed) starts again from 0: its bar does not go back.
    task.frames_done = max(task.frames_done, min(event.frames_done, event.frames_total or event.frames_done))
    task.frames_total = event.frames_total or task.frames_total
    task.fps = event.fps
    task.status = RUNNING
    if (task.frames_done, task.frames_total, task.fps, task.status) == before and job.status == RUNNING:
        return False
    _sum_segments(job, now)
    return True


def _segment_done(job: Job, event: DoneEvent, now: datetime) -> bool:
    """Record one stored segment; the last one creates the assembly task, once (the job is locked)."""
    task = _segment(job, event.segment)
    if task is None or task.status == DONE:
        return False  # a duplicate done event: nothing changes, no second assembly
    task.status = DONE
    task.frames_done = task.frames_total = event.frames
    task.fps = 0.0
    add_notes(job, event)
    add_damaged(job, event)
    finished = sum(t.frames_done for t in segment_tasks(job) if t.status == DONE)
    add_share(job, event, before=finished - event.frames)
    # job.seconds sums the segments' processing seconds until the assembly adds its own (speed sample).
    job.seconds = (job.seconds or 0.0) + max(event.seconds, 0.0)
    _sum_segments(job, now)
    queue_assembly(job)
    return True


def apply_progress(job: Job, event: ProgressEvent, now: datetime | None = None) -> bool:
    """Apply a progress event; returns whether the job changed."""
    now = now or utcnow()
    if job.status not in ACTIVE:
        return False
    if event.segment is None and event.run is not None and job.run is not None and event.run < job.run:
        return False  # a late event of an earlier run: its frames are not this run's
    cleared = _retry_over(job, event)
    if event.segment is not None:
        return _segment_progress(job, event, now) or cleared
    restarted = _start_run(job, event)
    if event.frames_done < job.frames_done:
        return cleared or restarted  # late event from before a newer one
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
        return cleared or restarted
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
    if event.segment is not None:
        return _segment_done(job, event, now)
    assembly = assembly_task(job)
    if job.tasks and assembly is None:
        return False  # a segmented job is done only once its segments are joined
    if assembly is not None:
        assembly.status = DONE
    _move(job, DONE, now)
    job.progress = 1.0
    job.frames_done = event.frames
    job.frames_total = event.frames
    job.eta_s = 0.0
    job.error = job.error_code = job.error_params = None
    job.output_key = event.output_key
    job.vtt_key = event.vtt_key
    job.preview_before_key = event.preview_before_key
    job.preview_after_key = event.preview_after_key
    job.source_proxy_key = event.source_proxy_key
    job.output_width = event.width
    job.output_height = event.height
    job.output_frames = event.frames
    add_notes(job, event)
    add_damaged(job, event)
    if assembly is not None:  # the segments' damage note counts of the whole joined video
        job.notes = [_of_total(note, event.frames) for note in job.notes or []] or None
    if assembly is None:  # an assembly's event has no share: the segments' stands
        add_share(job, event, before=0)
    # A segmented job's speed is its frames over every task's processing seconds, not the assembly's alone.
    job.seconds = event.seconds + ((job.seconds or 0.0) if assembly is not None else 0.0)
    job.fps = event.frames / job.seconds if job.seconds > 0 else job.fps
    return True


def add_share(job: Job, event: DoneEvent, *, before: int) -> None:
    """Fold a done event's share of pixels inferred into the job's, weighted by frames (``before`` so far)."""
    if event.share is None:
        return
    if job.inferred_share is None or before <= 0:
        job.inferred_share = event.share
        return
    total = before + event.frames
    job.inferred_share = round((job.inferred_share * before + event.share * event.frames) / total, 4)


def add_damaged(job: Job, event: DoneEvent) -> None:
    """Count the pictures a done event replaced for damage (segments add up; an assembly's says None)."""
    if event.damaged is not None:
        job.damaged_frames = (job.damaged_frames or 0) + event.damaged


def _of_total(note: dict[str, object], frames: int) -> dict[str, object]:
    """A damage note's total made the whole video's frame count (other notes as they are)."""
    if note.get("code") != DAMAGE_NOTE or not isinstance(note.get("params"), dict):
        return note
    return {**note, "params": {**note["params"], "total": frames}}  # type: ignore[dict-item]


def add_notes(job: Job, event: DoneEvent) -> None:
    """Keep the notes of a done event (each once: every segment says it was deinterlaced).

    Damage notes of several segments become one, their counts added up.
    """
    notes = list(job.notes or [])
    for note in event.notes:
        entry = note.model_dump()
        same = [n for n in notes if n.get("code") == DAMAGE_NOTE] if entry["code"] == DAMAGE_NOTE else []
        if same:
            params = same[0]["params"]
            lost, total = params["lost"] + entry["params"]["lost"], params["total"] + entry["params"]["total"]
            notes[notes.index(same[0])] = {"code": DAMAGE_NOTE, "params": {"lost": lost, "total": total}}
        elif entry not in notes:
            notes.append(entry)
    job.notes = notes or None


def _note_failure(job: Job, event: FailedEvent) -> bool:
    """Keep the event's reason on the job (text, code and parameters); returns whether it changed."""
    why = event.why()
    code, params = (why.code, dict(why.params)) if why is not None else (None, None)
    changed = (job.error, job.error_code, job.error_params) != (event.reason, code, params)
    job.error, job.error_code, job.error_params = event.reason, code, params
    return changed


def apply_failed(job: Job, event: FailedEvent, now: datetime | None = None) -> bool:
    """Fail the job (permanent) or put it back in the queue (transient); returns whether it changed."""
    now = now or utcnow()
    if job.status not in ACTIVE:
        return False
    if not event.permanent and job.tasks:
        # Other segments are still running: note the reason, the failed part is retried alone.
        return _note_failure(job, event)
    if not event.permanent:
        if not _note_failure(job, event) and job.status == QUEUED:
            return False
        job.eta_s = None
        if job.status != QUEUED:
            _move(job, QUEUED, now)
        job.updated_at = now
        return True
    _move(job, FAILED, now)
    _note_failure(job, event)
    job.eta_s = None
    return True


def _start_run(job: Job, event: ProgressEvent) -> bool:
    """The first event of a newer run (a redelivery nobody announced): progress starts again from 0."""
    if event.run is None or (job.run is not None and event.run <= job.run):
        return False
    job.run = event.run
    job.frames_done, job.progress, job.fps, job.eta_s = 0, 0.0, None, None
    if event.attempt is not None:
        job.attempt = event.attempt
    if event.attempts is not None:
        job.attempts = event.attempts
    return True


def _retry_over(job: Job, event: ProgressEvent) -> bool:
    """Forget the scheduled retry once the adapter reports progress of the retry's run (or, for events
    from before runs, from after its time)."""
    at = job.retry_at
    if at is None:
        return False
    if event.run is not None and job.run is not None and event.segment is None:
        if event.run < job.run:
            return False
    elif event.ts < (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp():
        return False
    job.retry_at = None
    return True


def apply_retry(job: Job, event: RetryEvent, now: datetime | None = None) -> bool:
    """Record a scheduled retry (attempt, when, why); the job, or its segment, waits in the queue again."""
    now = now or utcnow()
    if job.status not in ACTIVE:
        return False
    whole = event.segment is None and not job.tasks
    if whole and event.run is not None and job.run is not None and event.run < job.run:
        return False  # a late retry of an earlier run: a newer run already started
    why = event.why()
    job.attempt, job.attempts = event.attempt, event.attempts
    job.retry_at = datetime.fromtimestamp(event.ts + event.delay_s, UTC)
    job.retry_code, job.retry_params = (why.code, dict(why.params)) if why is not None else (None, None)
    job.retry_error, job.retry_infra = event.reason, event.infra
    job.eta_s = None
    job.updated_at = now
    task = _segment(job, event.segment) if event.segment is not None else None
    if task is not None and task.status != DONE:
        task.status, task.fps = QUEUED, 0.0
    elif not job.tasks:
        # The retry is a new run from frame 0: the bar starts again too, so the card never shows one
        # run's percentage with another's frames; progress of the old run is ignored from now on.
        job.frames_done, job.progress, job.fps = 0, 0.0, None
        if event.run is not None:
            job.run = event.run
        if job.status != QUEUED:
            _move(job, QUEUED, now)
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
    """Whether DELETE removes the job and its files (done, failed, cancelled); an active one it cancels.

    The store deletes any job (``JobStore.delete``): the tombstone it leaves cancels an active one.
    """
    return job.status in TERMINAL
