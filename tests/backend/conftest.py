"""Backend fixtures: a real 1 s clip, a fresh app on temp storage, a private RabbitMQ vhost, PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pika
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from backend.app import create_app
from backend.jobs.db import make_engine, make_sessions, migrate
from backend.settings import Settings
from tests.conftest import BROKER_HOST, BROKER_PORT, private_vhost, require
from tests.fixtures.media import make_clip, make_still

RABBIT_HOST, RABBIT_PORT = BROKER_HOST, BROKER_PORT
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
#: Parameters of a database fixture: SQLite, and the real PostgreSQL (marked, so CI can select it).
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
#: The operator token of the ``settings`` fixture's apps (/metrics and the docs are never open).
OPS_TOKEN = "test-ops-token"
OPS_HEADERS = {"Authorization": f"Bearer {OPS_TOKEN}"}


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 s 176x144 H.264/AAC MP4."""
    return make_clip(tmp_path_factory.mktemp("media") / "clip.mp4", gop=None, preset=None, shortest=True)


@pytest.fixture(scope="session")
def jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real JPEG still."""
    return make_still(tmp_path_factory.mktemp("media") / "still.jpg")


def upload(client: TestClient, path: Path, name: str = "clip.mp4", **data: str) -> dict:
    """POST ``path`` as a new job with form ``data``; the created job (asserts 201)."""
    with path.open("rb") as handle:
        response = client.post("/api/jobs", files={"file": (name, handle, "video/mp4")}, data=data)
    assert response.status_code == 201, response.text
    return response.json()


def scrape(client: TestClient) -> str:
    """The app's /metrics text, read with the operator token."""
    reply = client.get("/metrics", headers=OPS_HEADERS)
    assert reply.status_code == 200, reply.text
    return reply.text


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a temp SQLite database and storage root, broker at an unused URL."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>vsr</title><h1>page</h1>")
    return Settings(
        STORAGE_ROOT=tmp_path / "storage",
        DATABASE_URL=f"sqlite:///{tmp_path / 'backend.db'}",
        SITE_DIR=site,
        AMQP_URL="amqp://guest:guest@127.0.0.1:1/%2F",
        RUN_DIR=tmp_path / "run",
        OPS_TOKEN=OPS_TOKEN,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The app without broker threads (jobs stay unpublished)."""
    with TestClient(create_app(settings, broker=False)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def vhost() -> Iterator[str]:
    """A private vhost on the real broker, removed afterwards."""
    with private_vhost() as made:
        yield made.name


@pytest.fixture
def amqp_url(vhost: str) -> Iterator[str]:
    """URL of the private vhost; its queues are purged before each test."""
    url = f"amqp://guest:guest@{RABBIT_HOST}:{RABBIT_PORT}/{vhost}"
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    from contract import topology

    topology.declare(channel)
    for queue in (topology.TASKS_QUEUE, topology.EVENTS_QUEUE, topology.DEAD_QUEUE):
        channel.queue_purge(queue)
    connection.close()
    yield url


class _Pipe(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        upstream = socket.create_connection((RABBIT_HOST, RABBIT_PORT))
        sockets = [self.request, upstream]

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            for s in sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

        other = threading.Thread(target=pump, args=(upstream, self.request), daemon=True)
        other.start()
        pump(self.request, upstream)
        other.join(5)
        upstream.close()


class BrokerProxy:
    """A TCP forwarder to RabbitMQ on a fixed port that can be started later, to fake an outage."""

    def __init__(self) -> None:
        with socket.socket() as probe_socket:
            probe_socket.bind((RABBIT_HOST, 0))
            self.port = probe_socket.getsockname()[1]
        self._server: socketserver.ThreadingTCPServer | None = None

    def start(self) -> None:
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer((RABBIT_HOST, self.port), _Pipe)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def broker_proxy() -> Iterator[BrokerProxy]:
    """A proxy port for RabbitMQ that is down until ``start()``."""
    proxy = BrokerProxy()
    yield proxy
    proxy.stop()


def wait_for(condition: Callable[[], object], timeout: float = 20, what: str = "condition") -> object:
    """Poll ``condition`` until it is truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database (dropped afterwards) on the local server."""
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        require(False, f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
        raise
    name = f"vsr_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(params=DATABASES)
def migrated_sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A migrated database (an SQLite file, or a fresh PostgreSQL one) and its sessions."""
    url = (
        f"sqlite:///{tmp_path / 'jobs.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    engine = make_engine(url)
    migrate(engine)
    yield make_sessions(engine)
    engine.dispose()
