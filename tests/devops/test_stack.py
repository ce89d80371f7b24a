"""The local stack end to end: every part ready, and it survives kill -9 of an adapter and of the backend."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from devops.broker import Vhost, broker_answers, tasks_consumers
from devops.local import DEFAULT_AMQP_URL, Stack, StackConfig
from devops.process import ServiceError
from devops.readiness import free_port, http_ok, port_open, wait_until
from tests.fixtures.services import require

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]


def test_every_part_is_ready(stack: Stack) -> None:
    assert http_ok(f"{stack.base_url}/readyz")
    assert http_ok(f"{stack.triton_http_url}/v2/models/realesr-animevideov3-x4/ready")
    assert tasks_consumers(stack.amqp_url) == 2
    assert port_open("127.0.0.1", stack.config.triton_metrics_port)
    assert stack.storage_root.is_dir()
    assert (stack.log_dir / "tritonserver.log").is_file()


def test_adapter_killed_and_restarted(stack: Stack) -> None:
    stack.kill_adapter(1)
    wait_until("consumer gone", lambda: tasks_consumers(stack.amqp_url) == 1, 30)
    stack.restart_adapter(1)
    assert tasks_consumers(stack.amqp_url) == 2 and stack.adapters[1].alive()


def test_backend_killed_and_restarted(stack: Stack) -> None:
    stack.kill_backend()
    assert not http_ok(f"{stack.base_url}/healthz")
    stack.restart_backend()
    assert http_ok(f"{stack.base_url}/readyz")


def test_triton_killed_and_restarted(stack: Stack) -> None:
    ready = f"{stack.triton_http_url}/v2/health/ready"
    assert stack.triton is not None
    first = stack.triton.pid
    stack.kill_triton()
    assert not http_ok(ready) and not stack.triton.alive()
    stack.restart_triton()
    assert http_ok(ready) and http_ok(f"{stack.triton_http_url}/v2/models/realesr-animevideov3-x4/ready")
    assert stack.triton.pid != first and stack.triton.restarts >= 1


def test_the_backend_is_told_where_triton_answers(stack: Stack) -> None:
    assert stack.backend is not None
    assert stack.backend.env["MODEL_READY_URL"] == f"{stack.triton_http_url}/v2/health/ready"


def test_an_adapter_that_cannot_start_fails_the_start_with_its_log(tmp_path: Path) -> None:
    base_url = os.environ.get("AMQP_URL", DEFAULT_AMQP_URL)
    require(broker_answers(base_url) and Vhost(base_url).available, "RabbitMQ at AMQP_URL, and rabbitmqctl")
    with Vhost(base_url) as vhost:
        config = StackConfig(
            run_dir=tmp_path, amqp_url=vhost.url, backend_port=free_port(), adapters=1,
            adapter_metrics_ports=[free_port()], with_triton=False, build=False, ready_timeout_s=120,
            extra_env={"INFERENCE_TIMEOUT_S": "-1"},  # refused by AdapterSettings
        )
        started = time.monotonic()
        expected = r"(?s)adapter-0 exited with code [1-9].*INFERENCE_TIMEOUT_S"
        with pytest.raises(ServiceError, match=expected), Stack(config):
            pass
        assert time.monotonic() - started < 60
    assert not port_open("127.0.0.1", config.backend_port)  # the backend it had started was stopped
