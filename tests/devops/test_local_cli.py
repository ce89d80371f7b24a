"""`python -m devops.local up` (what `make up` runs): prints the URL when ready, Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devops.broker import Vhost, broker_answers
from devops.local import DEFAULT_AMQP_URL, ROOT
from devops.readiness import free_port, http_ok, port_open
from tests.fixtures.services import require

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]


def test_up_serves_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    base_url = os.environ.get("AMQP_URL", DEFAULT_AMQP_URL)
    require(broker_answers(base_url) and Vhost(base_url).available, "RabbitMQ at AMQP_URL, and rabbitmqctl")
    backend, http, grpc, metrics, adapter = (free_port() for _ in range(5))
    with Vhost(base_url) as vhost:
        env = dict(os.environ, AMQP_URL=vhost.url, BACKEND_PORT=str(backend), TRITON_HTTP_PORT=str(http),
                   TRITON_GRPC_PORT=str(grpc), TRITON_METRICS_PORT=str(metrics),
                   ADAPTER_METRICS_PORT=str(adapter), STORAGE_ROOT=str(tmp_path / "storage"),
                   DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}")
        argv = [sys.executable, "-m", "devops.local", "up", "--adapters", "1", "--models",
                "realesr-animevideov3-x4", "--run-dir", str(tmp_path / "run")]
        up = subprocess.Popen(argv, cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            assert up.stdout is not None
            lines: list[str] = []
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not any("Ready:" in line for line in lines):
                line = up.stdout.readline()
                assert line, "exited early:\n" + "".join(lines)
                lines.append(line)
            assert f"http://localhost:{backend}" in "".join(lines)
            assert http_ok(f"http://127.0.0.1:{backend}/readyz")
            assert http_ok(f"http://127.0.0.1:{http}/v2/health/ready")
            assert port_open("127.0.0.1", adapter)  # the adapter's metrics port
            up.send_signal(signal.SIGINT)
            assert up.wait(timeout=90) == 0
        finally:
            if up.poll() is None:
                up.kill()
                up.wait()
        for port in (backend, http, grpc, adapter):
            assert not port_open("127.0.0.1", port), f"port {port} still open after Ctrl-C"
        assert (tmp_path / "run" / "logs" / "backend.log").is_file()
