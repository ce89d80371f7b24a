"""Topology against the real broker: declare is idempotent and survives a queue made with other arguments."""

from __future__ import annotations

from collections.abc import Iterator

import pika
import pytest

from contract import topology
from tests.conftest import private_vhost

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
