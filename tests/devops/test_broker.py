"""Broker helpers against the real RabbitMQ: private vhosts, consumer counts, URL rewriting."""

from __future__ import annotations

import os
import shutil
import subprocess

import pika
import pytest

from contract import topology
from devops.broker import Vhost, broker_answers, ensure_broker, tasks_consumers, with_vhost
from devops.local import DEFAULT_AMQP_URL
from tests.fixtures.services import require

AMQP_URL = os.environ.get("AMQP_URL", DEFAULT_AMQP_URL)


def test_with_vhost_encodes_the_name() -> None:
    assert with_vhost("amqp://u:p@h:5672/%2F", "a/b") == "amqp://u:p@h:5672/a%2Fb"
    assert with_vhost("amqp://u:p@h", "vsr") == "amqp://u:p@h/vsr"


def test_unreachable_remote_broker_is_a_clear_error() -> None:
    url = "amqp://guest:guest@192.0.2.1:5672/%2F"  # TEST-NET-1: never routed
    with pytest.raises(RuntimeError, match=r"does not answer at 192\.0\.2\.1:5672"):
        ensure_broker(url, timeout_s=1)


@pytest.mark.rabbitmq
def test_vhost_is_private_and_removed_afterwards() -> None:
    require(broker_answers(AMQP_URL), "RabbitMQ at AMQP_URL")
    require(shutil.which("rabbitmqctl") is not None, "rabbitmqctl")
    assert ensure_broker(AMQP_URL) is False  # already running: nothing started
    with Vhost(AMQP_URL) as vhost:
        assert tasks_consumers(vhost.url) == 0  # queue not declared yet in the fresh vhost
        connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
        channel = connection.channel()
        topology.declare(channel)
        channel.basic_consume(topology.TASKS_QUEUE, lambda *_: None)
        assert tasks_consumers(vhost.url) == 1
        connection.close()
        assert tasks_consumers(vhost.url) == 0
    listed = subprocess.run(["rabbitmqctl", "-q", "list_vhosts"], capture_output=True, text=True, timeout=60,
                            check=True).stdout.split()
    assert vhost.name not in listed
