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
#: Header with the human reason an adapter gives when it dead-letters a task itself.
DEAD_REASON_HEADER = "x-vsr-reason"
EVENTS_EXCHANGE = "vsr.events"
EVENTS_QUEUE = "vsr.events"
EVENTS_ROUTING_KEY = "event"
#: Redeliveries of one task before RabbitMQ dead-letters it (quorum queue delivery-limit); a broker
#: connection drop can cost two, so a few spare ones keep a healthy job from running out.
DELIVERY_LIMIT = 5


def declare(channel: Any, delivery_limit: int = DELIVERY_LIMIT) -> None:
    """Declare the whole topology on a pika channel; safe to call from every service at start."""
    channel.exchange_declare(DEAD_EXCHANGE, exchange_type="direct", durable=True)
    channel.queue_declare(DEAD_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
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
