"""The adapter's metrics/readiness port under host networking: the first free port of a range, announced to
Prometheus (file-based service discovery) and to the container's health check."""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path


def parse_range(spec: str) -> range:
    """Ports of "LOW-HIGH" (inclusive) or of a single "PORT"."""
    low, _, high = spec.strip().partition("-")
    first, last = int(low), int(high or low)
    if not 0 < first <= last < 65536:
        raise ValueError(f"bad port range {spec!r} (LOW-HIGH, 1..65535)")
    return range(first, last + 1)


def bind_first_free(ports: range, make: Callable[[int], ThreadingHTTPServer]) -> ThreadingHTTPServer:
    """The server on the first port of `ports` that binds; replicas racing for one port each get another."""
    for port in ports:
        try:
            return make(port)
        except OSError:
            continue  # held by another replica (or anything else): try the next
    raise OSError(f"no free port in {ports.start}-{ports.stop - 1}")


def announce(port: int, port_file: Path | None, targets_dir: Path | None) -> Path | None:
    """Write the port for the health check and a file_sd target file for Prometheus; the latter's path."""
    if port_file is not None:
        port_file.write_text(f"{port}\n")
    if targets_dir is None:
        return None
    targets_dir.mkdir(parents=True, exist_ok=True)
    target = targets_dir / f"adapter-{port}.json"
    temporary = target.with_suffix(".tmp")
    # Written then renamed: Prometheus never reads half a file.
    temporary.write_text(json.dumps([{"targets": [f"127.0.0.1:{port}"], "labels": {"job": "adapter"}}]))
    temporary.replace(target)
    return target


def withdraw(target: Path | None) -> None:
    """Remove this adapter's target file at a clean exit (a killed one's file is overwritten by the next)."""
    if target is not None:
        target.unlink(missing_ok=True)


def probe(port_file: Path | None, default_port: int, timeout_s: float = 3.0) -> bool:
    """True when /readyz on this adapter's port answers 200."""
    try:
        port = int(port_file.read_text()) if port_file is not None else default_port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=timeout_s) as answer:
            return bool(answer.status == 200)
    except (OSError, ValueError, urllib.error.URLError):
        return False


def main() -> int:
    """Container health check: exit 0 when this adapter is ready."""
    port_file = os.environ.get("ADAPTER_PORT_FILE")
    ready = probe(Path(port_file) if port_file else None, int(os.environ.get("ADAPTER_METRICS_PORT", "9108")))
    return 0 if ready else 1


if __name__ == "__main__":
    sys.exit(main())
