"""Operations hygiene: the dead-letter gauge, protected ops endpoints, quiet client disconnects."""

from __future__ import annotations

import logging
import socket
import stat

import httpx
import pika
import pytest
from fastapi.testclient import TestClient

from backend.app import create_app
from backend.settings import Settings
from contract import topology
from tests.fixtures.api import problem
from tests.fixtures.backend import OPS_HEADERS, scrape, wait_for
from tests.fixtures.backend_server import serve


@pytest.mark.rabbitmq
def test_metrics_report_the_dead_letter_queues_depth(settings: Settings, amqp_url: str) -> None:
    app = create_app(settings.model_copy(update={"AMQP_URL": amqp_url}), outbox_poll_s=0.1)
    with TestClient(app) as client:
        wait_for(lambda: "vsr_tasks_dead_depth 0.0" in scrape(client), what="empty dead queue")
        connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        connection.channel().basic_publish("", topology.DEAD_QUEUE, b"{}")
        connection.close()
        wait_for(lambda: "vsr_tasks_dead_depth 1.0" in scrape(client), what="one dead task")


OPS = ("/metrics", "/docs", "/redoc", "/openapi.json")


def test_ops_endpoints_are_closed_by_default_on_real_uvicorn(settings: Settings) -> None:
    unset = settings.model_copy(update={"OPS_TOKEN": ""})
    with serve(unset) as served:
        for path in OPS:
            refused = httpx.get(served.url + path, timeout=10)
            problem(refused, 401, "auth.ops_token")
        kept = unset.RUN_DIR / "ops_token"
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        token = {"Authorization": f"Bearer {kept.read_text().strip()}"}
        for path in OPS:
            assert httpx.get(served.url + path, headers=token, timeout=10).status_code == 200, path
        assert httpx.get(served.url + "/healthz", timeout=10).status_code == 200


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
            assert client.get(path, headers=OPS_HEADERS).status_code == 404, path
        assert client.get("/metrics", headers=OPS_HEADERS).status_code == 200


class Records(logging.Handler):
    """Keeps every record it sees."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_client_gone_mid_upload_is_an_info_line_and_leaves_nothing(settings: Settings) -> None:
    records = Records()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn"), logging.getLogger("uvicorn.error")]
    for logger in loggers:
        logger.addHandler(records)
    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.INFO)
    try:
        with serve(settings) as served:
            port = int(served.url.rsplit(":", 1)[1])
            head = (
                b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\n"
                b"Content-Type: video/mp4\r\n\r\n" + b"\0" * 65536
            )
            request = (
                b"POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                b"Content-Length: %d\r\n\r\n" % (len(head) * 2)
            )
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(request + head)  # half the promised body, then the client is gone
                wait_for(lambda: any((settings.STORAGE_ROOT / "jobs").glob("*/input.*")), what="upload start")
            wait_for(
                lambda: any("cut short" in r.getMessage() for r in records.records), what="the INFO line"
            )
            jobs_dir = settings.STORAGE_ROOT / "jobs"
            wait_for(lambda: not any(jobs_dir.iterdir()), what="the partial file gone")
    finally:
        logging.getLogger().setLevel(level)
        for logger in loggers:
            logger.removeHandler(records)
    gone = [r for r in records.records if "cut short" in r.getMessage()]
    assert gone and all(r.levelno == logging.INFO and r.exc_info is None for r in gone)
    errors = [r for r in records.records if r.levelno >= logging.ERROR or r.exc_info is not None]
    assert errors == [], [r.getMessage() for r in errors]
