"""Backend fixtures: a real 1 s clip, a fresh app on temp storage, a private RabbitMQ vhost, PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pika
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from backend.app import create_app
from backend.jobs.db import make_engine, make_sessions, migrate
from backend.settings import Settings
from tests.fixtures.backend import DATABASES, OPS_TOKEN
from tests.fixtures.broker import BrokerProxy
from tests.fixtures.database import copy_sqlite
from tests.fixtures.media import make_clip, make_still
from tests.fixtures.services import BROKER_HOST, BROKER_PORT, private_vhost
from tests.fixtures.tokens import AUDIENCE, ISSUER, KEY

RABBIT_HOST, RABBIT_PORT = BROKER_HOST, BROKER_PORT


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 s 176x144 H.264/AAC MP4."""
    return make_clip(tmp_path_factory.mktemp("media") / "clip.mp4", gop=None, preset=None, shortest=True)


@pytest.fixture(scope="session")
def jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real JPEG still."""
    return make_still(tmp_path_factory.mktemp("media") / "still.jpg")


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    """Settings on a temp (migrated) SQLite database and storage root, broker at an unused URL."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>vsr</title><h1>page</h1>")
    return Settings(
        STORAGE_ROOT=tmp_path / "storage",
        DATABASE_URL=sqlite_url,
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


@pytest.fixture
def broker_proxy() -> Iterator[BrokerProxy]:
    """A proxy port for RabbitMQ that is down until ``start()``."""
    proxy = BrokerProxy()
    yield proxy
    proxy.stop()




@pytest.fixture(params=DATABASES)
def migrated_sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A migrated database (a copy of the session's SQLite template, or a fresh PostgreSQL one)."""
    if request.param == "sqlite":
        engine = make_engine(copy_sqlite(request.getfixturevalue("sqlite_template"), tmp_path / "jobs.db"))
    else:
        engine = make_engine(str(request.getfixturevalue("postgres_url")))
        migrate(engine)
    yield make_sessions(engine)
    engine.dispose()


@pytest.fixture
def integrated(settings: Settings) -> Settings:
    """``settings`` in integrated mode: platform JWTs signed with tests/fixtures/tokens.py's KEY."""
    settings.AUTH_MODE = "integrated"
    settings.JWT_KEY = KEY
    settings.JWT_ISSUER = ISSUER
    settings.JWT_AUDIENCE = AUDIENCE
    return settings
