"""devops/supervisor.py with real short-lived children: restarts with growing backoff, liveness, Triton."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devops.local import Stack, StackConfig
from devops.process import Service
from devops.readiness import free_port, wait_until
from devops.supervisor import Policy, Supervisor, Watch


class Ceiling:
    """Jitter source that always picks the longest wait, so delays are exact."""

    def uniform(self, a: float, b: float) -> float:
        return b


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def crashing(tmp_path: Path, name: str = "crasher") -> Service:
    """A service that exits with code 3 as soon as it starts."""
    return Service(name, [sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ),
                   tmp_path / f"{name}.log", tmp_path)


def sleeping(tmp_path: Path) -> Service:
    return Service("sleeper", [sys.executable, "-c", "import time; time.sleep(600)"], dict(os.environ),
                   tmp_path / "sleeper.log", tmp_path)


def exited(service: Service) -> bool:
    return service.process is not None and service.process.poll() is not None


@pytest.fixture
def services() -> Iterator[list[Service]]:
    """Services a test started; all stopped afterwards."""
    started: list[Service] = []
    yield started
    for service in started:
        service.stop(grace_s=1)


def test_a_crash_loop_restarts_with_doubling_waits(
    tmp_path: Path, services: list[Service], caplog: pytest.LogCaptureFixture
) -> None:
    service = crashing(tmp_path, "tritonserver")
    services.append(service)
    service.start()
    clock = Clock()
    supervisor = Supervisor([Watch(service)], Policy(min_s=1, max_s=4, stable_s=100), clock, Ceiling())
    waits = []
    caplog.set_level(logging.INFO, "devops.local")
    for restart in range(1, 5):
        wait_until("child exited", lambda: exited(service), 20)
        supervisor.poll()  # schedules
        due = supervisor.watches[0].due
        assert due is not None
        waits.append(due - clock.now)
        clock.now = due - 0.01
        supervisor.poll()
        assert service.restarts == restart - 1  # not before it is due
        clock.now = due
        supervisor.poll()
        assert service.restarts == restart
    assert waits == [1, 2, 4, 4]
    assert "tritonserver exited with code 3; restarting in 1.0 s (restart 1" in caplog.text


def test_the_backoff_starts_over_after_a_stable_run(tmp_path: Path, services: list[Service]) -> None:
    service = crashing(tmp_path)
    services.append(service)
    service.start()
    clock = Clock()
    supervisor = Supervisor([Watch(service)], Policy(min_s=1, max_s=60, stable_s=100), clock, Ceiling())
    watch = supervisor.watches[0]
    for _ in range(3):
        wait_until("child exited", lambda: exited(service), 20)
        supervisor.poll()
        assert watch.due is not None
        clock.now = watch.due
        supervisor.poll()
    wait_until("child exited", lambda: exited(service), 20)
    clock.now += 100  # it "ran" for stable_s before this exit
    supervisor.poll()
    assert watch.due == clock.now + 1


def test_a_frozen_service_is_restarted_after_missed_probes(tmp_path: Path, services: list[Service]) -> None:
    service = sleeping(tmp_path)
    services.append(service)
    service.start()
    answers = iter([False, False, True, False, False, True, False, False, False])
    clock = Clock()
    supervisor = Supervisor([Watch(service, lambda: next(answers))], Policy(misses=3), clock, Ceiling())
    watch = supervisor.watches[0]
    for _ in range(8):  # starting (no miss), answers, 2 misses, answers, 2 misses: never 3 in a row
        supervisor.poll()
    assert watch.due is None and watch.misses == 2
    first = service.pid
    supervisor.poll()  # the third miss in a row
    assert watch.due is not None
    clock.now = watch.due
    supervisor.poll()
    assert service.alive() and service.pid != first and service.restarts == 1
    assert watch.misses == 0 and not watch.answered


def test_the_stack_supervises_tritonserver(tmp_path: Path, services: list[Service]) -> None:
    config = StackConfig(run_dir=tmp_path, backend_port=free_port(), adapters=1,
                         adapter_metrics_ports=[free_port()], with_triton=True, build=False)
    stack = Stack(config)
    stack.triton = crashing(tmp_path, "tritonserver")  # a Triton that dies at once
    services.append(stack.triton)
    stack.triton.start()
    [watch] = stack.watches()
    assert watch.service is stack.triton and watch.probe is not None
    assert not watch.probe()  # nothing answers /v2/health/live on this port
    clock = Clock()
    supervisor = Supervisor([watch], Policy(min_s=0.5, max_s=2), clock, Ceiling())
    wait_until("tritonserver exited", lambda: exited(stack.triton) if stack.triton else False, 20)
    supervisor.poll()
    clock.now += 0.5
    supervisor.poll()
    assert stack.triton.restarts == 1
    assert stack.triton.log_path.read_text().count("=== tritonserver start") == 2
