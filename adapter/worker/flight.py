"""The delivery a worker is working on: its job thread, stop check, progress throttle and ending."""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pika

from adapter.errors import JobCancelled, StorageError
from adapter.job import GuardedJob, Stages, Toolbox, Work, execute
from adapter.limits import Limits
from adapter.media import storage_full
from adapter.video.stages import OnProgress, Progress, Result
from adapter.worker.guard import run_guarded
from adapter.worker.queue import Action, Decision, RetryPolicy, decide_failure, decide_success, tries_of
from adapter.worker.workspace import JobFiles
from contract import storage
from contract.catalogue import reason
from contract.logs import bind_owner
from contract.messages import DoneEvent, JobMessage


class StopCheck:
    """``should_stop`` for the job: true on interrupt, once the cancel marker appears or the job folder goes.

    The marker (``cancels/<id>``, outside the job folder) is polled every ``poll_s``. A job folder that
    vanished mid-run (``gone``) stops the run too, but is no cancel: a deleted job's marker is written
    before its files go, so without one the storage itself failed and the task is retried (``run``).
    """

    def __init__(self, marker: Path, poll_s: float, interrupt: threading.Event) -> None:
        self._marker = marker
        self._poll_s = poll_s
        self._interrupt = interrupt
        self._last = float("-inf")
        self._folder: Path | None = None
        self.cancelled = False
        self.gone = False

    def watch(self, folder: Path) -> None:
        """Also stop once ``folder`` (the job's, which exists now) is removed."""
        self._folder = folder

    def __call__(self) -> bool:
        if self._interrupt.is_set():
            return True
        now = time.monotonic()
        if not self.cancelled and now - self._last >= self._poll_s:
            self._last = now
            self.gone = self._folder is not None and not self._folder.is_dir()
            self.cancelled = self._marker.exists()
        return self.cancelled or self.gone


class Throttle:
    """Forwards a call at most once per ``interval_s`` (the first call always passes)."""

    def __init__(self, emit: OnProgress, interval_s: float) -> None:
        self._emit = emit
        self._interval_s = interval_s
        self._last = float("-inf")

    def __call__(self, item: Progress, /) -> None:
        now = time.monotonic()
        if now - self._last >= self._interval_s:
            self._last = now
            self._emit(item)


@dataclass
class Flight:
    """One delivery being worked on; ``run`` is the job thread's body, ``decide`` its ending."""

    tag: int
    body: bytes
    props: pika.BasicProperties
    job: JobMessage
    count: int
    files: JobFiles
    stop: StopCheck
    interrupt: threading.Event
    started: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    result: Result | None = None
    error: BaseException | None = None
    thread: threading.Thread | None = None

    def run(
        self,
        stages: Stages,
        tools: Toolbox,
        limits: Limits | None,
        on_progress: OnProgress,
        guarded: bool,
    ) -> None:
        """Run the job's stages into this run's temporaries and commit them; never raises."""
        files = self.files
        with bind_owner(self.job.owner):  # every log line of this task names its owner
            try:
                files.prepare()  # never the job folder itself: a deleted job stays deleted
                if files.folder.is_dir():
                    self.stop.watch(files.folder)
                work = work_of(self.job, files, limits)
                if guarded:
                    self.result = run_guarded(GuardedJob(work, stages), on_progress, self.stop)
                else:
                    self.result = execute(work, stages, tools, on_progress, self.stop)
                files.commit(self.result.vtt)
            except BaseException as exc:  # every outcome, even a bug, must reach the delivery rules
                self.error = storage_full(exc, files.output.parent) or self._files_gone(exc) or exc
                files.discard_stale()
            finally:
                self.done.set()

    def _files_gone(self, exc: BaseException) -> StorageError | None:
        """A stop because the job's folder vanished without a cancel: a storage failure, retried."""
        if not (isinstance(exc, JobCancelled) and self.stop.gone and not self.stop.cancelled):
            return None
        error = StorageError(reason("job.files_gone"))
        error.__cause__ = exc
        return error

    def done_event(self) -> DoneEvent | None:
        """The done event of a finished job (None unless it succeeded)."""
        result, job = self.result, self.job
        if self.error is not None or result is None:
            return None
        previews = [
            storage.preview_key(job.job_id, which) if path.exists() else None
            for which, path in zip(("before", "after"), self.files.previews, strict=True)
        ]
        return DoneEvent(
            job_id=job.job_id,
            output_key=job.output_key,
            vtt_key=storage.vtt_key(job.job_id) if result.vtt is not None else None,
            preview_before_key=previews[0],
            preview_after_key=previews[1],
            source_proxy_key=storage.source_proxy_key(job.job_id) if result.proxy else None,
            frames=result.frames,
            width=result.width,
            height=result.height,
            seconds=result.seconds,
            segment=job.segment.index if job.segment is not None else None,
            notes=list(result.notes),
            share=result.share,
            damaged=None if job.kind == "assemble" else result.damaged,
        )

    def decide(self, policy: RetryPolicy, now: float) -> Decision:
        """Ack, retry or dead-letter: a shutdown interrupt requeues, a user's cancel acks."""
        if self.error is None:
            return decide_success()
        if isinstance(self.error, JobCancelled) and self.interrupt.is_set() and not self.stop.cancelled:
            return Decision(Action.REQUEUE, None, "worker shutting down", "requeued")
        tries = tries_of(self.props.headers)
        return for_part(self.job, decide_failure(self.job.job_id, self.error, tries, policy, now))


def work_of(job: JobMessage, files: JobFiles, limits: Limits | None) -> Work:
    """What a task's run reads and writes: this run's temporaries of the task's files."""
    return Work(
        files.input,
        files.partial(files.output),
        (files.partial(files.previews[0]), files.partial(files.previews[1])) if files.owns_previews else None,
        files.intermediate,
        job.options,
        limits,
        segment=job.segment,
        segments=files.segments if job.kind == "assemble" else None,
        proxy=files.partial(files.proxy) if files.proxy else None,
    )


def for_part(job: JobMessage, decision: Decision) -> Decision:
    """Name the segment (or the assembly) in a failure's reason and event: the job says which part failed."""
    segment = job.segment
    if decision.reason is None or (segment is None and job.kind != "assemble"):
        return decision
    # Only the English line (logs, the DLQ header) names the part; the event keeps the error's own
    # Reason for the user, and its ``segment`` field says which segment failed.
    where = f"segment {segment.index + 1} of {segment.count}" if segment else "joining the segments"
    reason = f"{where}: {decision.reason}"
    event = decision.event
    if event is not None:
        event = event.model_copy(update={"reason": reason, "segment": segment.index if segment else None})
    return dataclasses.replace(decision, event=event, reason=reason)
