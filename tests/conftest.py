"""Shared test policy: service-backed tests fail (never skip) when CI is set."""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
import socket
import warnings
from collections.abc import Iterator
from typing import Protocol

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


# ---- markers are what CI selects by: a test that uses a service must carry that service's marker --------

#: Fixtures (anywhere in a test's fixture closure) and what they need.
SERVICE_FIXTURES: dict[str, frozenset[str]] = {
    "stack": frozenset({"rabbitmq", "triton"}),
    "triton_server": frozenset({"triton"}),
    "triton_url": frozenset({"triton"}),
    "postgres_url": frozenset({"postgres"}),
    "browser": frozenset({"browser"}),
    "open_tab": frozenset({"browser"}),
}
#: Calls in the source of a test or of one of its fixtures, and what they need.
SERVICE_CALLS: dict[str, frozenset[str]] = {
    "private_vhost(": frozenset({"rabbitmq"}),
    "Vhost(": frozenset({"rabbitmq"}),
    "rabbitmqctl": frozenset({"rabbitmq"}),
    "TritonServer(": frozenset({"triton"}),
    "sync_playwright": frozenset({"browser"}),
}
#: A parametrized fixture whose parameter is this value runs the test on that service.
SERVICE_PARAMS: dict[str, frozenset[str]] = {"postgresql": frozenset({"postgres"})}


class _Marker(Protocol):
    name: str


class _FixtureDef(Protocol):
    func: object


class _Item(Protocol):
    """The parts of a pytest item the marker check reads."""

    nodeid: str
    fixturenames: list[str]

    def iter_markers(self) -> Iterator[_Marker]: ...


def _source(func: object) -> str:
    try:
        return inspect.getsource(inspect.unwrap(func))  # type: ignore[arg-type]
    except (OSError, TypeError):
        return ""


def services_used(item: _Item) -> set[str]:
    """Services a test needs, read from its fixture closure, parameters and (fixture) source."""
    needed: set[str] = set()
    for name in item.fixturenames:
        needed |= SERVICE_FIXTURES.get(name, frozenset())
    callspec = getattr(item, "callspec", None)
    for value in (callspec.params.values() if callspec is not None else ()):
        if isinstance(value, str):
            needed |= SERVICE_PARAMS.get(value, frozenset())
    functions: list[object] = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)
    for defs in (info.name2fixturedefs.values() if info is not None else ()):
        functions += [fixture.func for fixture in defs]
    for source in (_source(func) for func in functions if func is not None):
        for call, services in SERVICE_CALLS.items():
            if call in source:
                needed |= services
    return needed


def missing_markers(item: _Item) -> set[str]:
    """Service markers a test needs but does not carry."""
    return services_used(item) - {marker.name for marker in item.iter_markers()}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Fail the run in CI (warn locally) when a service-backed test lacks its marker."""
    unmarked = [
        f"{item.nodeid}: add {', '.join(sorted(missing))}"
        for item in items
        if (missing := missing_markers(item))  # type: ignore[arg-type]
    ]
    if not unmarked:
        return
    message = "service-backed tests without their marker:\n  " + "\n  ".join(unmarked)
    if IN_CI:
        raise pytest.UsageError(message)
    warnings.warn(message, pytest.PytestWarning, stacklevel=1)
