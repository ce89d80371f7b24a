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


OPS = ("/metrics", "/docs", "/redoc", "/openapi.json")


def test_ops_endpoints_are_open_without_a_token(settings: Settings) -> None:
    with TestClient(create_app(settings, broker=False)) as client:
        for path in OPS:
            assert client.get(path).status_code == 200, path


def test_an_ops_token_guards_metrics_and_docs_but_not_probes_or_the_api(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"OPS_TOKEN": "s3cret"}), broker=False)
    with TestClient(app) as client:
        for path in OPS:
            refused = client.get(path)
            assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer", path
            wrong = client.get(path, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401, path
            assert client.get(path, headers={"Authorization": "Bearer s3cret"}).status_code == 200, path
        assert "vsr_uploads" in client.get("/metrics", headers={"Authorization": "Bearer s3cret"}).text
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/jobs").status_code == 200


def test_docs_can_be_switched_off(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"OPS_DOCS": False}), broker=False)) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(path).status_code == 404, path
        assert client.get("/metrics").status_code == 200
