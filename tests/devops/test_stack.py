"""The local stack end to end: every part ready, and it survives kill -9 of an adapter and of the backend."""

from __future__ import annotations

import pytest

from devops.broker import tasks_consumers
from devops.local import Stack
from devops.readiness import http_ok, port_open, wait_until

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton]


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
