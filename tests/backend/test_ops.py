"""Operations hygiene: the dead-letter gauge, protected ops endpoints, quiet client disconnects."""

from __future__ import annotations

import pika
import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.settings import Settings
from contract import topology

from .conftest import wait_for


@pytest.mark.rabbitmq
def test_metrics_report_the_dead_letter_queues_depth(settings: Settings, amqp_url: str) -> None:
    app = create_app(settings.model_copy(update={"AMQP_URL": amqp_url}), outbox_poll_s=0.1)
    with TestClient(app) as client:
        wait_for(lambda: "vsr_tasks_dead_depth 0.0" in client.get("/metrics").text, what="empty dead queue")
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        connection.channel().basic_publish("", topology.DEAD_QUEUE, b"{}")
        connection.close()
        wait_for(lambda: "vsr_tasks_dead_depth 1.0" in client.get("/metrics").text, what="one dead task")
