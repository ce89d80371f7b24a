"""Shared test policy: service-backed tests fail (never skip) when CI is set."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from collections.abc import Iterator

import pytest

from devops.broker import Vhost

BROKER_HOST, BROKER_PORT = "127.0.0.1", 5672
BROKER_URL = f"amqp://guest:guest@{BROKER_HOST}:{BROKER_PORT}/%2F"

IN_CI = bool(os.environ.get("CI"))


def require(condition: bool, reason: str) -> None:
    """Skip locally when a service is missing, but fail in CI where every service must be present."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def broker_up() -> bool:
    """Whether the local RabbitMQ accepts connections and rabbitmqctl is there to make vhosts."""
    try:
        with socket.create_connection((BROKER_HOST, BROKER_PORT), timeout=2):
            pass
    except OSError:
        return False
    return shutil.which("rabbitmqctl") is not None


@contextlib.contextmanager
def private_vhost(prefix: str = "vsr-test") -> Iterator[Vhost]:
    """A throw-away vhost on the real broker (fails in CI, skips locally when there is none)."""
    require(broker_up(), f"RabbitMQ with rabbitmqctl at {BROKER_HOST}:{BROKER_PORT}")
    with Vhost(BROKER_URL, prefix=prefix) as vhost:
        yield vhost


# Fixture modules, each owned by the part it serves.
pytest_plugins = ["tests.fixtures.media", "tests.fixtures.triton", "tests.fixtures.stack"]
