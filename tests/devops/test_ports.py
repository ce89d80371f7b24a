"""devops/ports.py: who listens on a port, from /proc (real sockets and a made-up /proc)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from devops.local import Stack, StackConfig
from devops.ports import Holder, held_ports_report, holders
from devops.process import ServiceError
from devops.readiness import free_port

# /proc/net/tcp rows: port 0x1F90 = 8080 LISTEN (inode 4242), 0x1F91 = 8081 ESTABLISHED (inode 4243).
TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1
   1: 0100007F:1F91 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 4243 1
"""
# An IPv6 listener on 8082 (inode 4244) whose owner is not visible.
ANY6 = "00000000000000000000000000000000"
TCP6 = f"""  sl  local_address remote_address st tx_queue rx_queue tr tm->when retrnsmt uid timeout inode
   0: {ANY6}:1F92 {ANY6}:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4244 1
"""


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    """A made-up /proc: pid 123 (`server --port 8080`) holds socket inode 4242."""
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "tcp").write_text(TCP)
    (tmp_path / "net" / "tcp6").write_text(TCP6)
    (tmp_path / "123" / "fd").mkdir(parents=True)
    (tmp_path / "123" / "fd" / "3").symlink_to("socket:[4242]")
    (tmp_path / "123" / "fd" / "4").symlink_to("/dev/null")
    (tmp_path / "123" / "cmdline").write_bytes(b"server\0--port\x008080\0")
    (tmp_path / "self").mkdir()
    return tmp_path


def test_listeners_are_found_with_their_process(proc: Path) -> None:
    assert holders([8080, 8081, 8082, 9000], proc) == [
        Holder(8080, 123, "server --port 8080"), Holder(8082, None, ""),
    ]


def test_the_report_names_port_role_pid_and_command(proc: Path) -> None:
    report = held_ports_report({8080: "backend", 8081: "adapter-0 metrics", 8082: "tritonserver http"}, proc)
    assert report.splitlines() == [
        "port 8080 (backend) is held by pid 123: server --port 8080",
        "port 8082 (tritonserver http) is held by a process this user cannot see",
    ]
    assert held_ports_report({9000: "backend"}, proc) == ""


def test_a_real_listening_socket_names_this_process() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        [holder] = holders([port, free_port()])
    assert holder.port == port and holder.pid == os.getpid()
    assert "pytest" in holder.command or "python" in holder.command
    assert holders([port]) == []  # closed


def test_a_stack_refuses_to_start_on_a_held_port(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        config = StackConfig(run_dir=tmp_path, backend_port=port, adapters=1,
                             adapter_metrics_ports=[free_port()], with_triton=False, build=False)
        with pytest.raises(ServiceError, match=rf"port {port} \(backend\) is held by pid {os.getpid()}"):
            Stack(config).start()
    assert not (tmp_path / "logs").exists()  # nothing was started
