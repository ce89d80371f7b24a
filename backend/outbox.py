"""Outbox: a thread that publishes every task message the broker has not confirmed yet.

A task is a whole-video job (``jobs.published``) or a segment / assembly task row (``tasks.published``).
An upload is committed to the database first (``published`` false) and only then published, so a
job survives a broker outage or a backend restart: this loop retries with backoff until
RabbitMQ confirms it. Delivery is at least once: a crash between the broker's confirm and the
commit publishes the task again after a restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from contract import amqp
from contract.messages import ASSEMBLE, JOB, SEGMENT, JobMessage, JobOptions, Segment, TaskKind
from contract.storage import output_key, segment_key

from . import jobs, segments
from .db import Job, Task
from .errors import BrokerUnavailable
from .store import JobStore

log = logging.getLogger(__name__)


class TaskPublisher(Protocol):
    """What the outbox needs from a broker publisher."""

    def publish(self, message: JobMessage) -> None: ...
    def queue_depth(self) -> int: ...
    def pause(self, seconds: float) -> None: ...
    def close(self) -> None: ...

    @property
    def connected(self) -> bool: ...


def task_message(job: Job, task: Task | None = None) -> JobMessage:
    """The task message for a stored job (kind ``job``), or for one of its segment / assembly tasks."""
    kind: TaskKind = JOB
    segment: Segment | None = None
    count, key = None, output_key(job.id)
    if task is not None and task.kind == SEGMENT:
        kind, segment, key = SEGMENT, segments.of_task(task), segment_key(job.id, task.index)
    elif task is not None and task.kind == ASSEMBLE:
        kind, count = ASSEMBLE, task.count
    elif task is not None:
        raise ValueError(f"unknown task kind {task.kind!r}")
    return JobMessage(
        kind=kind,
        job_id=job.id,
        owner=job.owner,
        input_key=job.input_key,
        output_key=key,
        segment=segment,
        segments=count,
        options=JobOptions(
            model=job.model,
            scale=job.scale,
            height=job.height,
            upscale=job.upscale is not False,  # rows from before the column existed upscale
            describe=job.describe,
        ),
    )


class Outbox(threading.Thread):
    """Publishes unpublished jobs; woken by ``wake()`` after an upload, else polls every ``poll_s``."""

    def __init__(
        self,
        store: JobStore,
        publisher: TaskPublisher,
        *,
        poll_s: float = 2.0,
        backoff: amqp.Backoff | None = None,
        on_depth: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(name="vsr-outbox", daemon=True)
        self._store = store
        self._publisher = publisher
        self._poll_s = poll_s
        self._backoff = backoff or amqp.Backoff()
        self._on_depth = on_depth
        self._wake = threading.Event()
        self._stop_event = threading.Event()

    @property
    def connected(self) -> bool:
        """Whether the publisher's broker connection is open."""
        return self._publisher.connected

    def wake(self) -> None:
        """Publish soon (called after a new job is committed)."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the loop and close the connection."""
        self._stop_event.set()
        self._wake.set()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self._wake.clear()
            try:
                self.publish_pending()
                if self._on_depth is not None:
                    self._on_depth(self._publisher.queue_depth())
                self._backoff.reset()
                wait = self._poll_s
            except BrokerUnavailable as exc:
                wait = self._backoff.next_delay()
                log.warning(
                    "broker unavailable, outbox reconnecting in %.2fs: %s", wait, exc, extra={"delay_s": wait}
                )
            except Exception:
                log.exception("outbox pass failed")  # e.g. the database is briefly down
                wait = self._backoff.next_delay()
            self._wait(wait)
        self._publisher.close()

    def _wait(self, seconds: float) -> None:
        # Short slices keep heartbeats flowing while staying responsive to wake() and stop().
        deadline = seconds
        while deadline > 0 and not self._wake.is_set() and not self._stop_event.is_set():
            self._publisher.pause(min(0.2, deadline))
            deadline -= 0.2

    def publish_pending(self) -> int:
        """Publish every active job's unconfirmed messages; returns how many jobs sent some."""
        count = 0
        for job_id in self._store.unpublished():
            if self._stop_event.is_set():
                break
            job, sent = self._store.update(job_id, self._publish_one)
            if sent and job is not None:
                count += 1
                log.info("task published", extra={"job_id": job.id, "status": job.status})
        return count

    def _publish_one(self, job: Job) -> bool:
        """Publish what the job owes the broker (its whole-video message, its unpublished task rows)."""
        # Runs inside the job's locked transaction: a cancel in between is seen here.
        if not jobs.needs_publishing(job):
            return False
        sent = False
        if not job.published:
            # A whole-video job that already runs was published before a crash lost the commit.
            if not job.tasks and job.status == jobs.QUEUED:
                self._publisher.publish(task_message(job))
                sent = True
            job.published = True
        for task in jobs.unpublished_tasks(job):
            # A publish error rolls the whole transaction back: the confirmed ones go again (idempotent).
            self._publisher.publish(task_message(job, task))
            task.published = True
            sent = True
        return sent
