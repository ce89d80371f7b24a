"""RabbitMQ consumer: takes one task at a time, runs the job off the connection thread, acks last.

The connection lives on the thread that calls ``serve()``; only that thread touches pika. The job
runs on a job thread (or, for suspicious redeliveries, in a child process) and talks back through a
thread-safe outbox, so heartbeats keep flowing however long a job takes. See docs/operations.md.

The worker consumes only while the model is ready (``ModelHealth``): at start and after a task failed
because the model server is down, it cancels its consumer and looks again with backoff, serving
heartbeats meanwhile, so queued tasks wait in the queue instead of failing one after another.
"""

from __future__ import annotations

import contextlib
import logging
import queue as queue_mod
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel

from adapter.errors import BadMessageError, JobCancelled, JobError
from adapter.job import Stages, Toolbox
from adapter.limits import Limits
from adapter.settings import AdapterSettings
from adapter.video.stages import Progress
from adapter.worker.flight import Flight, StopCheck, Throttle, for_part
from adapter.worker.health import AlwaysReady, ModelHealth
from adapter.worker.metrics import Metrics
from adapter.worker.queue import (
    JOB_ID_HEADER,
    REASON_HEADER,
    Action,
    Decision,
    RetryPolicy,
    Tries,
    decide_bad_message,
    decide_exhausted,
    decide_failure,
    delivery_count,
    guard_this,
    is_exhausted,
    parse_job,
    retry_headers,
    tries_of,
)
from adapter.worker.workspace import JobFiles
from contract import amqp, storage, topology
from contract.messages import ProgressEvent

log = logging.getLogger(__name__)


# The settings' defaults, without reading the environment: WorkerConfig restates none of them.
_DEFAULTS = AdapterSettings.defaults()


@dataclass(frozen=True)
class WorkerConfig:
    """Plain settings of one worker: ``from_settings`` in main.py, or built directly in tests."""

    amqp_url: str
    storage_root: Path
    limits: Limits | None = None
    delivery_limit: int = topology.DELIVERY_LIMIT
    progress_interval_s: float = _DEFAULTS.PROGRESS_INTERVAL_S
    cancel_poll_s: float = _DEFAULTS.CANCEL_POLL_S
    shutdown_grace_s: float = _DEFAULTS.SHUTDOWN_GRACE_S
    heartbeat_s: int = _DEFAULTS.AMQP_HEARTBEAT_S
    reconnect_min_s: float = _DEFAULTS.RECONNECT_MIN_S
    reconnect_max_s: float = _DEFAULTS.RECONNECT_MAX_S
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    tick_s: float = 0.2

    @classmethod
    def from_settings(cls, settings: AdapterSettings) -> WorkerConfig:
        """The worker's part of the adapter settings."""
        return cls(
            amqp_url=settings.AMQP_URL,
            storage_root=settings.STORAGE_ROOT,
            limits=settings.job_limits(),
            progress_interval_s=settings.PROGRESS_INTERVAL_S,
            cancel_poll_s=settings.CANCEL_POLL_S,
            shutdown_grace_s=settings.SHUTDOWN_GRACE_S,
            heartbeat_s=settings.AMQP_HEARTBEAT_S,
            reconnect_min_s=settings.RECONNECT_MIN_S,
            reconnect_max_s=settings.RECONNECT_MAX_S,
            retry=settings.retry_policy(),
        )


class Worker:
    """Consumes the task queue with prefetch 1 until ``stop()``; reconnects with backoff."""

    def __init__(
        self,
        config: WorkerConfig,
        stages: Stages,
        metrics: Metrics | None = None,
        health: ModelHealth | None = None,
    ) -> None:
        self._config = config
        self._stages = stages
        self.metrics = metrics or Metrics()
        self._tools = Toolbox(stages, self.metrics.timed)
        self._outbox: queue_mod.SimpleQueue[ProgressEvent] = queue_mod.SimpleQueue()
        self._flight: Flight | None = None
        self._stopping = threading.Event()
        self._stop_deadline = float("inf")
        self._conn: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None
        self.consuming = threading.Event()
        self.model_ready = threading.Event()
        self._health: ModelHealth = health or AlwaysReady()
        self._consumer = ""
        self._next_look = 0.0
        self._backoff = amqp.Backoff(config.reconnect_min_s, config.reconnect_max_s)
        self._health_backoff = amqp.Backoff(config.reconnect_min_s, config.reconnect_max_s)

    # ---- lifecycle -------------------------------------------------------------------------------

    def stop(self, grace_s: float | None = None) -> None:
        """Stop taking work; let the current job run ``grace_s`` more seconds, then requeue it."""
        grace = self._config.shutdown_grace_s if grace_s is None else grace_s
        self._stop_deadline = min(self._stop_deadline, time.monotonic() + grace)
        self._stopping.set()

    def ready(self) -> bool:
        """Taking deliveries with the model ready (the adapter's /readyz)."""
        return self.consuming.is_set() and self.model_ready.is_set()

    def serve(self) -> None:
        """Consume until stopped, surviving broker restarts and forced connection closes."""
        amqp.run_sessions(
            self._session, name="vsr-adapter", backoff=self._backoff, stop=self._stopping, on_lost=self._lost
        )
        self._abandon_flight()

    def _lost(self, _exc: BaseException) -> None:
        self._abandon_flight()
        self.metrics.reconnects.inc()

    def _session(self) -> None:
        conn = amqp.connect(self._config.amqp_url, name="vsr-adapter", heartbeat_s=self._config.heartbeat_s)
        try:
            channel = conn.channel()
            channel.confirm_delivery()
            topology.declare(channel, self._config.delivery_limit)
            channel.basic_qos(prefetch_count=1)
            self._conn, self._channel = conn, channel
            self._consumer, self._next_look = "", 0.0
            while not self._outbox.empty():
                self._outbox.get_nowait()
            self._backoff.reset()
            while True:
                conn.process_data_events(time_limit=self._config.tick_s)
                self._flush_outbox()
                flight = self._flight
                if flight is not None and flight.done.is_set():
                    self._finish(flight)
                if self._stopping.is_set():
                    self._pause()
                    if self._flight is None:
                        break
                    if time.monotonic() >= self._stop_deadline:
                        self._flight.interrupt.set()
                elif not self._consumer and self._flight is None:
                    self._resume_when_ready(channel)
        finally:
            self.consuming.clear()
            self._consumer = ""
            self._conn, self._channel = None, None
            amqp.close_quietly(conn)

    def _pause(self) -> None:
        """Stop taking deliveries (the current one, if any, is still settled)."""
        if self._consumer and self._channel is not None:
            self._channel.basic_cancel(self._consumer)
        self._consumer = ""
        self.consuming.clear()

    def _resume_when_ready(self, channel: BlockingChannel) -> None:
        """Consume once the model is ready; look again after a jittered backoff while it is not."""
        now = time.monotonic()
        if now < self._next_look:
            return
        if not self._health.ready():
            if self.model_ready.is_set() or self._health_backoff.attempt == 0:
                log.warning("model not ready; not taking tasks until it is")
            self.model_ready.clear()
            self.metrics.model_ready.set(0)
            self._next_look = time.monotonic() + self._health_backoff.next_delay()
            return
        self._health_backoff.reset()
        self.model_ready.set()
        self.metrics.model_ready.set(1)
        self._consumer = channel.basic_consume(topology.TASKS_QUEUE, self._on_message)
        self.consuming.set()
        log.info("consuming %s", topology.TASKS_QUEUE)

    # ---- deliveries ------------------------------------------------------------------------------

    def _on_message(
        self, channel: BlockingChannel, method: Any, props: pika.BasicProperties, body: bytes
    ) -> None:
        tag = method.delivery_tag
        if self._stopping.is_set() or self._flight is not None:
            channel.basic_nack(tag, requeue=True)
            return
        count = delivery_count(props.headers)
        tries = tries_of(props.headers)
        try:
            job = parse_job(body)
            files = JobFiles.for_job(self._config.storage_root, job)
        except BadMessageError as exc:
            self._apply(tag, body, props, decide_bad_message(exc, exc.job_id))
            return
        except storage.UnsafeKeyError as exc:
            self._apply(tag, body, props, decide_bad_message(exc, job.job_id))
            return
        retry = self._config.retry
        if is_exhausted(count, self._config.delivery_limit, tries, retry):
            exhausted = decide_exhausted(job.job_id, tries.attempt - 1)
            self._apply(tag, body, props, for_part(job, exhausted))
            return
        if files.cancel_marker.exists():
            cancelled = decide_failure(job.job_id, JobCancelled(), tries, retry, time.time())
            self._apply(tag, body, props, cancelled)
            return
        interrupt = threading.Event()
        stop = StopCheck(files.cancel_marker, self._config.cancel_poll_s, interrupt)
        flight = Flight(tag, body, props, job, count, files, stop, interrupt)
        guarded = guard_this(count, self._config.delivery_limit, tries, retry)
        flight.thread = threading.Thread(
            target=self._run, args=(flight, guarded), name=f"job-{job.job_id[:8]}", daemon=True
        )
        self._flight = flight
        self.metrics.busy.set(1)
        log.info(
            "%s: start (attempt %d, delivery %d%s)",
            job.label,
            tries.attempt,
            count,
            ", guarded" if guarded else "",
            extra={"job_id": job.job_id, "delivery": count, "attempt": tries.attempt},
        )
        flight.thread.start()

    def _run(self, flight: Flight, guarded: bool) -> None:
        """Job thread: run the job, then wake the connection thread to settle the delivery."""
        segment = flight.job.segment.index if flight.job.segment is not None else None
        tries = tries_of(flight.props.headers)
        emit = Throttle(
            lambda p: self._progress(flight.job.job_id, p, segment, tries), self._config.progress_interval_s
        )
        flight.run(self._stages, self._tools, self._config.limits, emit, guarded)
        self._wake()

    def preload(self, model: str) -> None:
        """Build (and so check) the upscaler of ``model`` now rather than on the first job."""
        self._tools.upscaler(model)

    def _progress(
        self, job_id: str, progress: Progress, segment: int | None = None, tries: Tries | None = None
    ) -> None:
        self.metrics.fps.set(progress.fps)
        tries = tries or Tries()
        self._outbox.put(
            ProgressEvent(
                job_id=job_id,
                frames_done=progress.frames_done,
                frames_total=progress.frames_total,
                fps=progress.fps,
                eta_s=progress.eta_s,
                share=progress.share,
                segment=segment,
                run=tries.run,
                attempt=tries.attempt,
                attempts=self._config.retry.attempts,
            )
        )
        self._wake()

    def _wake(self) -> None:
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(*amqp.CONNECTION_ERRORS):
                conn.add_callback_threadsafe(lambda: None)

    def _flush_outbox(self) -> None:
        while not self._outbox.empty():
            event = self._outbox.get_nowait()
            self._publish(topology.EVENTS_EXCHANGE, topology.EVENTS_ROUTING_KEY, event.model_dump_json())

    def _finish(self, flight: Flight) -> None:
        """Main thread: turn the job's ending into events and exactly one ack/nack."""
        job, error = flight.job, flight.error
        self._flush_outbox()
        done = flight.done_event()
        if done is not None:
            if job.kind != "assemble":  # the assembly copies frames its segments already counted
                self.metrics.frames.inc(done.frames)
            self._publish(topology.EVENTS_EXCHANGE, topology.EVENTS_ROUTING_KEY, done.model_dump_json())
        elif error is not None and not isinstance(error, (JobError, JobCancelled)):
            log.error("%s: unexpected error", job.label, exc_info=error, extra={"job_id": job.job_id})
        decision = flight.decide(self._config.retry, time.time())
        if decision.pause:
            # Before the ack: with prefetch 1 no other task is on its way to this worker yet.
            self._pause()
            self.model_ready.clear()
            self.metrics.model_ready.set(0)
            # The next job connects afresh instead of through a channel stuck in reconnect backoff.
            self._tools.close()
        log.info(
            "%s: %s (%s)",
            job.label,
            decision.outcome,
            decision.reason or "ok",
            extra={"job_id": job.job_id, "outcome": str(decision.outcome)},
        )
        self.metrics.job_seconds.observe(time.monotonic() - flight.started)
        self._apply(flight.tag, flight.body, flight.props, decision)
        self._flight = None
        self.metrics.busy.set(0)

    def _apply(self, tag: int, body: bytes, props: pika.BasicProperties, decision: Decision) -> None:
        """Publish the decision's event (confirmed), then settle the delivery."""
        assert self._channel is not None
        if decision.event is not None:
            self._publish(
                topology.EVENTS_EXCHANGE, topology.EVENTS_ROUTING_KEY, decision.event.model_dump_json()
            )
        if decision.action is Action.ACK:
            self._channel.basic_ack(tag)
        elif decision.action is Action.REQUEUE:
            self._channel.basic_nack(tag, requeue=True)
        elif decision.action is Action.RETRY:
            assert decision.delay_s is not None
            self._publish(
                "",
                topology.retry_queue(decision.delay_s),
                body,
                content_type=props.content_type or "application/json",
                headers=retry_headers(props.headers, decision.headers),
                message_id=props.message_id,
            )
            self._channel.basic_ack(tag)
        else:
            # Our own confirmed copy rather than basic.reject, because reject cannot say why.
            headers = dict(props.headers or {})
            headers[REASON_HEADER] = decision.reason or "dead-lettered"
            if decision.event is not None:
                headers[JOB_ID_HEADER] = decision.event.job_id
            self._publish(
                topology.DEAD_EXCHANGE,
                topology.TASKS_ROUTING_KEY,
                body,
                content_type=props.content_type or "application/json",
                headers=headers,
            )
            self._channel.basic_ack(tag)
        self.metrics.jobs.labels(decision.outcome).inc()
        if decision.outcome in ("failed", "bad_message", "exhausted", "retried", "model_wait", "overloaded"):
            self.metrics.failures.labels(decision.outcome).inc()

    def _publish(
        self,
        exchange: str,
        routing_key: str,
        body: str | bytes,
        *,
        content_type: str = "application/json",
        headers: dict[str, Any] | None = None,
        message_id: str | None = None,
    ) -> None:
        """Persistent, mandatory publish; returns only once the broker confirmed it."""
        assert self._channel is not None
        props = pika.BasicProperties(
            content_type=content_type,
            delivery_mode=pika.DeliveryMode.Persistent,
            headers=headers,
            message_id=message_id,
        )
        self._channel.basic_publish(exchange, routing_key, body, props, mandatory=True)

    def _abandon_flight(self) -> None:
        """The delivery is gone with its channel: stop the job and drop its partial files."""
        flight, self._flight = self._flight, None
        if flight is None:
            return
        flight.interrupt.set()
        while flight.thread is not None and flight.thread.is_alive():
            flight.thread.join(timeout=30)
            if flight.thread.is_alive():
                log.warning("%s: still stopping", flight.job.label)
        flight.files.discard_stale()
        self.metrics.busy.set(0)
        self.metrics.jobs.labels("abandoned").inc()
