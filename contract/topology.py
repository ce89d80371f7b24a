"""Exchange and queue names and the one function that declares them (idempotent)."""

from __future__ import annotations

import logging
from typing import Any

import pika.exceptions

log = logging.getLogger(__name__)

TASKS_EXCHANGE = "vsr.tasks"
TASKS_QUEUE = "vsr.tasks"
TASKS_ROUTING_KEY = "job"
DEAD_EXCHANGE = "vsr.dead"
DEAD_QUEUE = "vsr.tasks.dead"
#: A copy of every dead-lettered task for the backend, so a job whose worker died on every delivery
#: still ends FAILED while the original stays in DEAD_QUEUE for operators.
DEAD_NOTIFY_QUEUE = "vsr.tasks.dead.notify"
#: Parked tasks are kept a week (their jobs are failed already: the copy is for an operator to read), at
#: most DEAD_MAX_LENGTH of them; past that the oldest goes (drop-head). Alerted on in rules.yml.
DEAD_TTL_S = 7 * 24 * 3600
DEAD_MAX_LENGTH = 10_000
#: Header with the human reason an adapter gives when it dead-letters a task itself.
DEAD_REASON_HEADER = "x-vsr-reason"
EVENTS_EXCHANGE = "vsr.events"
EVENTS_QUEUE = "vsr.events"
EVENTS_ROUTING_KEY = "event"
#: Redeliveries of one task before RabbitMQ dead-letters it (quorum queue delivery-limit); a broker
#: connection drop can cost two, so a few spare ones keep a healthy job from running out.
DELIVERY_LIMIT = 5
#: Delays (seconds) of the retry queues ``vsr.retry.<s>``: a task copied into one comes back to the task
#: exchange when its TTL ends (dead-lettered with routing key ``job``). Backoff picks one per retry.
RETRY_DELAYS_S: tuple[int, ...] = (2, 4, 8, 16, 32, 64, 128, 256)
#: Headers of a retried task: the attempt it is (1-based), when it first failed (epoch s) and how many
#: retries were scheduled before (the backoff exponent).
ATTEMPT_HEADER = "x-vsr-attempt"
FIRST_FAILURE_HEADER = "x-vsr-first-failure"
RETRIES_HEADER = "x-vsr-retries"


def retry_queue(delay_s: int) -> str:
    """Name of the retry queue that holds a task ``delay_s`` seconds (one of RETRY_DELAYS_S)."""
    return f"vsr.retry.{delay_s}"


def retry_delay(wanted_s: float, delays: tuple[int, ...] = RETRY_DELAYS_S) -> int:
    """The longest retry queue delay not above ``wanted_s`` (the shortest when all are above it)."""
    fitting = [delay for delay in delays if delay <= wanted_s]
    return max(fitting) if fitting else min(delays)


def declare(channel: Any, delivery_limit: int = DELIVERY_LIMIT) -> None:
    """Declare the whole topology on a pika channel; safe to call from every service at start."""
    channel.exchange_declare(DEAD_EXCHANGE, exchange_type="direct", durable=True)
    _declare_queue(channel, DEAD_QUEUE, dead_arguments())
    channel.queue_bind(DEAD_QUEUE, DEAD_EXCHANGE, routing_key=TASKS_ROUTING_KEY)
    channel.queue_declare(DEAD_NOTIFY_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(DEAD_NOTIFY_QUEUE, DEAD_EXCHANGE, routing_key=TASKS_ROUTING_KEY)
    channel.exchange_declare(TASKS_EXCHANGE, exchange_type="direct", durable=True)
    _declare_queue(
        channel,
        TASKS_QUEUE,
        {
            "x-queue-type": "quorum",
            "x-delivery-limit": delivery_limit,
            "x-dead-letter-exchange": DEAD_EXCHANGE,
            "x-dead-letter-routing-key": TASKS_ROUTING_KEY,
        },
    )
    channel.queue_bind(TASKS_QUEUE, TASKS_EXCHANGE, routing_key=TASKS_ROUTING_KEY)
    channel.exchange_declare(EVENTS_EXCHANGE, exchange_type="direct", durable=True)
    channel.queue_declare(EVENTS_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(EVENTS_QUEUE, EVENTS_EXCHANGE, routing_key=EVENTS_ROUTING_KEY)
    for delay in RETRY_DELAYS_S:
        _declare_queue(channel, retry_queue(delay), retry_arguments(delay))


def dead_arguments(ttl_s: int = DEAD_TTL_S, max_length: int = DEAD_MAX_LENGTH) -> dict[str, Any]:
    """The dead-letter queue: nobody consumes it, so its messages expire and the oldest overflow away."""
    return {
        "x-queue-type": "quorum",
        "x-message-ttl": ttl_s * 1000,
        "x-max-length": max_length,
        "x-overflow": "drop-head",
    }


def retry_arguments(delay_s: int) -> dict[str, Any]:
    """A retry queue: no consumer; each message expires after ``delay_s`` back into the task exchange.

    Quorum, with at-least-once dead-lettering (which needs reject-publish overflow), so a task is never
    lost between the retry queue and the task queue.
    """
    return {
        "x-queue-type": "quorum",
        "x-message-ttl": delay_s * 1000,
        "x-dead-letter-exchange": TASKS_EXCHANGE,
        "x-dead-letter-routing-key": TASKS_ROUTING_KEY,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def _declare_queue(channel: Any, name: str, arguments: dict[str, Any]) -> None:
    """Declare ``name``; if it already exists with other arguments, keep using it as it is.

    Queue arguments are fixed at creation, so a redeployment with, say, another delivery limit would
    otherwise stop every service from starting. The declare runs on a throw-away channel because the
    broker closes the channel that asked with different arguments (406 PRECONDITION_FAILED).
    """
    probe = channel.connection.channel()
    try:
        probe.queue_declare(name, durable=True, arguments=arguments)
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code != 406:
            raise
        log.warning(
            "queue %s exists with other arguments than %s; using it as it is "
            "(change them with a RabbitMQ policy, or delete the queue while it is empty): %s",
            name,
            arguments,
            exc.reply_text,
        )
    finally:
        if probe.is_open:
            probe.close()
