"""Outbox: a thread that publishes the task messages the broker has not confirmed yet, fairly.

A task is a whole-video job (``jobs.published``) or a segment / assembly task row (``tasks.published``).
An upload is committed to the database first (``published`` false) and only then published, so a
job survives a broker outage or a backend restart: this loop retries with backoff until
RabbitMQ confirms it. Delivery is at least once: a crash between the broker's confirm and the
commit publishes the task again after a restart.

Fair queue (``FAIR_QUEUE``, docs/operations.md "Fair queue"): the database is the waiting line. Only
as many tasks are published as the adapters can take soon (ready messages in ``vsr.tasks`` at most the
number of its consumers, at least 1 so an adapter scaled from zero finds work), each time the next one
in ``backend.dispatch.fairness`` order; the publish time is stored with the row and is the owner's turn.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Protocol

from pydantic import ValidationError

from backend.dispatch import fairness
from backend.dispatch.broker import QueueState
from backend.errors import BrokerUnavailable
from backend.intake import segments
from backend.intake.strength import stored_strength
from backend.jobs import rules as jobs
from backend.jobs.db import Job, Task, utcnow
from backend.jobs.store import JobStore
from contract import amqp
from contract.catalogue import reason
from contract.container import SUFFIXES
from contract.messages import (
    ASSEMBLE,
    JOB,
    SEGMENT,
    FailedEvent,
    JobMessage,
    JobOptions,
    Segment,
    TaskKind,
)
from contract.storage import output_key, segment_key

log = logging.getLogger(__name__)


class TaskPublisher(Protocol):
    """What the outbox needs from a broker publisher."""

    def publish(self, message: JobMessage) -> None: ...
    def queue_state(self) -> QueueState: ...
    def pause(self, seconds: float) -> None: ...
    def close(self) -> None: ...

    @property
    def connected(self) -> bool: ...


def task_message(job: Job, task: Task | None = None) -> JobMessage:
    """The task message for a stored job (kind ``job``), or for one of its segment / assembly tasks."""
    options = stored_options(job)
    container = options.container
    if container == "auto":  # the upload chooses the container (contract.container); a row never says auto
        raise ValueError(f"job {job.id}: container not chosen at upload")
    kind: TaskKind = JOB
    segment: Segment | None = None
    count, key = None, output_key(job.id, SUFFIXES[container])
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
        options=options,
    )


def stored_options(job: Job) -> JobOptions:
    """The job's options as its row stores them, checked by the one options model (a bad row fails loudly).

    Every column is NOT NULL with its default since the backfills (migrations 0008-0021): nothing to fall
    back on."""
    return JobOptions.model_validate(
        {
            "model": job.model,
            "scale": job.scale,
            "height": job.height,
            "upscale": job.upscale,
            "describe": job.describe,
            "density": job.description_density,
            "deinterlace": job.deinterlace,
            "regions": job.regions,
            "field_parity": job.field_parity,
            "container": job.container,
            "strength": stored_strength(job.strength),
            "denoise": job.denoise,
            "background": job.background,
            "hdr": job.hdr,
        }
    )


def _message_or_fail(job: Job, task: Task | None = None) -> JobMessage | None:
    """The task's message, or None with the job failed when its row is refused (the others still go)."""
    try:
        return task_message(job, task)
    except ValueError as exc:  # pydantic's ValidationError included
        refused = exc.errors() if isinstance(exc, ValidationError) else []
        fields = ", ".join(sorted({str(error["loc"][0]) for error in refused if error["loc"]}))
        detail = f"stored options refused: {fields}" if fields else str(exc)
        log.error("task not published: %s", detail, extra={"job_id": job.id, "owner": job.owner})
        jobs.apply_failed(job, FailedEvent.from_reason(job.id, reason("job.malformed_task", detail=detail)))
        return None


class Outbox(threading.Thread):
    """Publishes unpublished tasks; woken by ``wake()`` (an upload, an event), else polls every ``poll_s``."""

    def __init__(
        self,
        store: JobStore,
        publisher: TaskPublisher,
        *,
        poll_s: float = 2.0,
        backoff: amqp.Backoff | None = None,
        on_depth: Callable[[int], None] | None = None,
        fair: bool = True,
        weights: Mapping[str, int] | None = None,
        on_waiting: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(name="vsr-outbox", daemon=True)
        self._store = store
        self._publisher = publisher
        self._poll_s = poll_s
        self._backoff = backoff or amqp.Backoff()
        self._on_depth = on_depth
        self._fair = fair
        self._weights = dict(weights or {})
        self._on_waiting = on_waiting
        self._wake = threading.Event()
        self._stop_event = threading.Event()
        #: Tasks left in the database after the last pass, and the task queue as last seen (None: not yet).
        self._left = 0
        self.seen: QueueState | None = None

    @property
    def connected(self) -> bool:
        """Whether the publisher's broker connection is open."""
        return self._publisher.connected

    def wake(self) -> None:
        """Publish soon (called after a new job is committed, or an adapter event freed a place)."""
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
                self._report(self._publisher.queue_state())
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

    def _report(self, state: QueueState) -> None:
        """Keep the queue as last seen; export its depth and the real backlog (database + ready)."""
        self.seen = state
        if self._on_depth is not None:
            self._on_depth(state.ready)
        if self._on_waiting is not None:
            self._on_waiting(self._left + state.ready)

    def _wait(self, seconds: float) -> None:
        # Short slices keep heartbeats flowing while staying responsive to wake() and stop().
        deadline = seconds
        while deadline > 0 and not self._wake.is_set() and not self._stop_event.is_set():
            self._publisher.pause(min(0.2, deadline))
            deadline -= 0.2

    def room(self) -> int | None:
        """How many tasks may be published now: None without the fair queue (all of them)."""
        if not self._fair:
            return None
        state = self._publisher.queue_state()
        self.seen = state
        return max(1, state.consumers) - state.ready

    def publish_pending(self) -> int:
        """Publish the due tasks in fair order while there is room; returns how many messages went out."""
        waiting = fairness.waiting(self._store.active())
        self._left = len(waiting)
        if not waiting:
            return 0
        room = self.room()
        if room is not None and room <= 0:
            return 0
        depth = max(self._weights.values(), default=1)
        served = self._store.served({item.owner for item in waiting}, depth)
        count = 0
        for item in fairness.order(waiting, served, self._weights):
            if self._stop_event.is_set() or (room is not None and count >= room):
                break
            publish = functools.partial(self._publish_one, index=item.index)
            job, sent = self._store.update(item.job_id, publish)
            self._left -= 1
            if sent and job is not None:
                count += 1
                log.info(
                    "task published",
                    extra={"job_id": job.id, "owner": job.owner, "segment": item.index, "status": job.status},
                )
        return count

    def _publish_one(self, job: Job, index: int) -> bool:
        """Publish one task the job owes the broker (its whole-video message, or task row ``index``)."""
        # Runs inside the job's locked transaction: a cancel in between is seen here.
        if not jobs.needs_publishing(job):
            return False
        now = utcnow()
        if index == fairness.WHOLE:
            if job.published:
                return False
            job.published = True
            # A whole-video job that already runs was published before a crash lost the commit.
            if job.tasks or job.status != jobs.QUEUED:
                return False
            message = _message_or_fail(job)
            if message is None:
                return False
            self._publisher.publish(message)
            job.published_at = now
            return True
        task = next((t for t in jobs.unpublished_tasks(job) if t.index == index), None)
        if task is None:
            return False
        message = _message_or_fail(job, task)
        if message is None:
            return False
        # A publish error rolls the transaction back: a confirmed message goes again (idempotent).
        self._publisher.publish(message)
        job.published = True  # the job's first messages went out
        task.published, task.published_at = True, now
        return True
