"""Topology against the real broker: declare is idempotent and survives a queue made with other arguments."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pika
import pytest

from contract import topology
from tests.fixtures.services import private_vhost

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def vhost_url() -> Iterator[str]:
    with private_vhost("vsr-topology") as vhost:
        yield vhost.url


def test_declare_twice_and_with_another_delivery_limit_keeps_working(vhost_url: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(vhost_url))
    try:
        channel = connection.channel()
        topology.declare(channel, delivery_limit=3)
        topology.declare(channel, delivery_limit=3)
        # A redeployment with another limit must not stop the service: the existing queue is kept.
        topology.declare(channel, delivery_limit=topology.DELIVERY_LIMIT + 1)
        assert channel.is_open
        frame = channel.queue_declare(topology.TASKS_QUEUE, passive=True)
        assert frame.method.message_count == 0
        channel.confirm_delivery()  # so the message is queued before basic_get looks
        channel.basic_publish(topology.TASKS_EXCHANGE, topology.TASKS_ROUTING_KEY, b"{}", mandatory=True)
        method, _props, _body = channel.basic_get(topology.TASKS_QUEUE, auto_ack=True)
        assert method is not None, "the task queue is still bound and usable"
    finally:
        connection.close()


def test_a_task_in_a_retry_queue_comes_back_to_the_task_queue_after_its_ttl(vhost_url: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(vhost_url))
    try:
        channel = connection.channel()
        topology.declare(channel)
        channel.confirm_delivery()
        delay = topology.RETRY_DELAYS_S[0]
        props = pika.BasicProperties(delivery_mode=2, headers={topology.ATTEMPT_HEADER: 2})
        sent = time.monotonic()
        channel.basic_publish("", topology.retry_queue(delay), b'{"retry": 1}', props, mandatory=True)
        assert channel.basic_get(topology.TASKS_QUEUE, auto_ack=True)[0] is None, "not before its delay"
        deadline = sent + delay + 30
        while (got := channel.basic_get(topology.TASKS_QUEUE, auto_ack=True))[0] is None:
            assert time.monotonic() < deadline, "the retried task never came back to the task queue"
            connection.sleep(0.1)
        waited = time.monotonic() - sent
        assert waited >= delay * 0.9, f"came back after {waited:.2f}s, before its {delay}s delay"
        assert got[2] == b'{"retry": 1}' and got[1].headers[topology.ATTEMPT_HEADER] == 2
        assert channel.queue_declare(topology.retry_queue(delay), passive=True).method.message_count == 0
    finally:
        connection.close()


@pytest.mark.parametrize(("wanted", "delay"), [(0.0, 2), (1.9, 2), (2.0, 2), (7.9, 4), (8.0, 8), (1e9, 256)])
def test_retry_delay_is_the_longest_queue_delay_not_above_the_backoff(wanted: float, delay: int) -> None:
    assert topology.retry_delay(wanted) == delay
