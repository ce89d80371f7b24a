"""RabbitMQ: a confirming task publisher and the events consumer thread.

pika's BlockingConnection is not thread-safe, so each background thread owns its own
connection; nothing here is shared between threads except stop events and plain numbers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pydantic import ValidationError

from backend.errors import BrokerUnavailable
from contract import amqp, topology
from contract.amqp import CONNECTION_ERRORS
from contract.catalogue import Reason, reason
from contract.messages import AnyEvent, FailedEvent, JobMessage, parse_event

log = logging.getLogger(__name__)


class QueueState(NamedTuple):
    """What a passive declare tells about a queue: messages ready (not delivered) and consumers."""

    ready: int
    consumers: int


class Publisher:
    """Publishes task messages as persistent, mandatory, publisher-confirmed deliveries."""

    def __init__(self, amqp_url: str) -> None:
        self._url = amqp_url
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def _open(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        try:
            self._connection = amqp.connect(self._url, name="vsr-backend-outbox")
            channel = self._connection.channel()
            channel.confirm_delivery()
            topology.declare(channel)
        except CONNECTION_ERRORS as exc:
            self.close()
            raise BrokerUnavailable(f"cannot reach RabbitMQ: {exc!r}") from exc
        self._channel = channel
        return channel

    def publish(self, message: JobMessage) -> None:
        """Publish one task; returns only after RabbitMQ confirmed it, else BrokerUnavailable."""
        channel = self._open()
        properties = pika.BasicProperties(
            content_type="application/json",
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=message.job_id,
        )
        try:
            channel.basic_publish(
                topology.TASKS_EXCHANGE,
                topology.TASKS_ROUTING_KEY,
                message.model_dump_json().encode(),
                properties=properties,
                mandatory=True,
            )
        except CONNECTION_ERRORS as exc:
            self.close()
            raise BrokerUnavailable(f"task {message.job_id} not confirmed: {exc!r}") from exc

    def queue_depth(self, queue: str = topology.TASKS_QUEUE) -> int:
        """Messages ready in ``queue``, the task queue by default (passive declare: never creates it)."""
        return self.queue_state(queue).ready

    def queue_state(self, queue: str = topology.TASKS_QUEUE) -> QueueState:
        """Ready messages and consumers of ``queue`` (one passive declare), for the fair outbox."""
        channel = self._open()
        try:
            frame = channel.queue_declare(queue, passive=True)
        except CONNECTION_ERRORS as exc:
            self.close()
            raise BrokerUnavailable(f"cannot read queue {queue}: {exc!r}") from exc
        return QueueState(ready=int(frame.method.message_count), consumers=int(frame.method.consumer_count))

    def pause(self, seconds: float) -> None:
        """Wait while servicing heartbeats on an open connection."""
        if self._connection is not None and self._connection.is_open:
            try:
                self._connection.sleep(seconds)
                return
            except CONNECTION_ERRORS:
                self.close()
        threading.Event().wait(seconds)

    @property
    def connected(self) -> bool:
        """Whether the channel is open right now."""
        return self._channel is not None and self._channel.is_open

    def close(self) -> None:
        """Close the connection, ignoring errors from one already gone."""
        connection, self._connection, self._channel = self._connection, None, None
        amqp.close_quietly(connection)


#: Applies one event: progress, done, failed, or a scheduled retry (``RetryEvent``).
EventHandler = Callable[[AnyEvent], None]


class EventConsumer(threading.Thread):
    """Consumes ``vsr.events`` and acks each message only after ``handle`` committed it.

    Reconnects with jittered exponential backoff (contract.amqp). A malformed message is logged and
    dropped (it can never succeed); a handler error (e.g. the database is down) requeues the message
    and reconnects.
    """

    def __init__(
        self,
        amqp_url: str,
        handle: EventHandler,
        *,
        prefetch: int = 32,
        backoff: amqp.Backoff | None = None,
    ) -> None:
        super().__init__(name="vsr-events", daemon=True)
        self._url = amqp_url
        self._handle = handle
        self._prefetch = prefetch
        self._backoff = backoff or amqp.Backoff()
        self._stop_event = threading.Event()
        self.connected = False

    def stop(self) -> None:
        """Ask the thread to finish; it exits within about a second."""
        self._stop_event.set()

    def run(self) -> None:
        amqp.run_sessions(
            self._consume, name="vsr-backend-events", backoff=self._backoff, stop=self._stop_event
        )

    def _consume(self) -> None:
        connection = amqp.connect(self._url, name="vsr-backend-events")
        failed: list[bool] = []
        try:
            channel = connection.channel()
            topology.declare(channel)
            channel.basic_qos(prefetch_count=self._prefetch)

            def on_event(ch: BlockingChannel, method: Any, _props: Any, body: bytes) -> None:
                if not failed and not self._deliver(ch, method.delivery_tag, parse_event, body):
                    failed.append(True)

            def on_dead(ch: BlockingChannel, method: Any, props: Any, body: bytes) -> None:
                if not failed and not self._deliver(ch, method.delivery_tag, dead_letter_event(props), body):
                    failed.append(True)

            channel.basic_consume(topology.EVENTS_QUEUE, on_event)
            channel.basic_consume(topology.DEAD_NOTIFY_QUEUE, on_dead)
            self.connected = True
            self._backoff.reset()
            log.info("events consumer connected")
            # A failed handler (e.g. the database is down) requeued its message: reconnect after a backoff.
            while not self._stop_event.is_set() and not failed:
                connection.process_data_events(time_limit=1)
        finally:
            self.connected = False
            amqp.close_quietly(connection)

    def _deliver(self, channel: BlockingChannel, tag: int, parse: Parser, body: bytes) -> bool:
        try:
            event = parse(body)
        except ValidationError as exc:
            log.error("malformed event dropped: %s", exc.errors()[:1])
            channel.basic_ack(tag)
            return True
        try:
            self._handle(event)
        except Exception:
            log.exception("event not applied; requeued", extra={"job_id": event.job_id, "event": event.type})
            channel.basic_nack(tag, requeue=True)
            return False
        channel.basic_ack(tag)
        return True


Parser = Callable[[bytes], AnyEvent]


def crash_reason() -> Reason:
    """Why a task the broker dead-lettered by itself failed: every delivery ended with the worker gone."""
    # RabbitMQ dead-letters once a delivery beyond the limit is returned: limit + 1 attempts in all.
    return reason("job.gave_up", attempts=topology.DELIVERY_LIMIT + 1)


def dead_letter_event(props: Any) -> Parser:
    """Parser turning a dead-lettered task into the FailedEvent the backend applies.

    An adapter that dead-letters a task itself names the reason in a header (English text, no code):
    the job gets the generic ``http.job_failed`` code with that text kept in ``error`` for the logs.
    """
    headers = getattr(props, "headers", None) or {}
    text = headers.get(topology.DEAD_REASON_HEADER)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")

    def parse(body: bytes) -> FailedEvent:
        job = JobMessage.model_validate_json(body)
        segment = job.segment.index if job.segment is not None else None
        if text is None:
            event = FailedEvent.from_reason(job.job_id, crash_reason(), segment=segment)
        else:
            event = FailedEvent.from_reason(job.job_id, reason("http.job_failed"), segment=segment)
            event = event.model_copy(update={"reason": str(text)})
        if job.segment is not None and text is None:
            # The adapter names the segment in its own texts; the broker's dead-letter does not.
            label = f"segment {job.segment.index + 1} of {job.segment.count}"
            event = event.model_copy(update={"reason": f"{label}: {event.reason}"})
        return event

    return parse
