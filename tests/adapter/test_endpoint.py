"""Adapter replicas on one host network: each takes a free port of a range, announced to its health check
and to Prometheus (adapter/worker/endpoint.py)."""

from __future__ import annotations

import json
import socket
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from adapter.worker.endpoint import announce, parse_range, probe, withdraw
from adapter.worker.metrics import Metrics


def free_ports(count: int) -> range:
    """`count` consecutive ports starting at one the kernel just gave out (free in practice)."""
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        first = int(probe_socket.getsockname()[1])
    return range(first, first + count)


def test_parse_range() -> None:
    assert parse_range("18100-18103") == range(18100, 18104)
    assert parse_range("9108") == range(9108, 9109)
    for bad in ("0-5", "20-10", "x", "1-70000"):
        with pytest.raises(ValueError):
            parse_range(bad)


def test_replicas_take_different_ports_and_the_probe_reads_the_port_file(tmp_path: Path) -> None:
    ports_range, servers = free_ports(4), list[ThreadingHTTPServer]()
    port_file = tmp_path / "port"
    try:
        for _ in range(2):
            server = Metrics().serve(ports_range, lambda: True, "127.0.0.1")
            assert server is not None
            servers.append(server)
        ports = [server.server_address[1] for server in servers]
        assert len(set(ports)) == 2 and all(port in ports_range for port in ports)
        target = announce(ports[1], port_file, tmp_path / "targets")
        assert port_file.read_text().strip() == str(ports[1])
        assert target is not None
        assert json.loads(target.read_text()) == [
            {"targets": [f"127.0.0.1:{ports[1]}"], "labels": {"job": "adapter"}}
        ]
        assert probe(port_file, 1)
        withdraw(target)
        assert not target.exists()
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    assert not probe(port_file, 1)
