"""Polling helpers: wait for an HTTP endpoint, a TCP port, or any predicate, failing early if a child dies."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from devops.process import Service, ServiceError


def http_ok(url: str, timeout_s: float = 2.0) -> bool:
    """True when GET `url` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def port_open(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """True when a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    what: str,
    predicate: Callable[[], bool],
    timeout_s: float,
    watch: Service | None = None,
    interval_s: float = 0.25,
) -> None:
    """Poll `predicate` until true; raise ServiceError on timeout or as soon as `watch` exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return
        if watch is not None:
            watch.check()
        if time.monotonic() > deadline:
            detail = f"; log {watch.log_path}" if watch is not None else ""
            raise ServiceError(f"{what} not ready after {timeout_s:.0f} s{detail}")
        time.sleep(interval_s)
