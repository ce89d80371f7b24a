"""After a broker "restart", four adapter worker processes reconnect at jittered, not lock-step, times.

The shared RabbitMQ is never restarted (others use it): the test force-closes every connection of
its private vhost and refuses new ones for a while, which the workers cannot tell from a broker
that went down and came back. The evidence is read from the workers' JSON log lines.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devops.broker import Vhost, tasks_consumers
from tests.fixtures.services import private_vhost
from tests.fixtures.worker import Broker, make_job

pytestmark = pytest.mark.rabbitmq

ROOT = Path(__file__).parents[2]
WORKERS = 4
MIN_S, MAX_S = 0.5, 2.0
#: Failed reconnect rounds each worker must log while the vhost refuses it.
ROUNDS = 3
#: Lower bound on the spread of the delays, each divided by its round's ceiling. Without jitter every
#: one is exactly 1.0 (spread 0); with full jitter they are 12 uniform draws from [0, 1], whose
#: population standard deviation (about 0.29) falls below 0.1 with probability ~3e-5.
MIN_SPREAD = 0.1


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def log_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON lines a worker wrote so far (a line still being written is skipped)."""
    lines = []
    for raw in path.read_text(errors="replace").splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            entry = json.loads(raw)
            if isinstance(entry, dict):
                lines.append(entry)
    return lines


def reconnects(path: Path) -> list[dict[str, Any]]:
    return [e for e in log_lines(path) if str(e.get("msg", "")).startswith("reconnecting in")]


def consuming(path: Path) -> int:
    return sum(1 for e in log_lines(path) if str(e.get("msg", "")).startswith("consuming "))


@pytest.fixture
def vhost() -> Iterator[Vhost]:
    with private_vhost("vsr-reconnect") as made:
        yield made


@pytest.fixture
def workers(vhost: Vhost, tmp_path: Path) -> Iterator[list[Path]]:
    """Four worker processes on the vhost; yields their log files."""
    paths = [tmp_path / f"worker-{i}.log" for i in range(WORKERS)]
    code = (
        "from tests.fixtures.worker import serve_reconnecting; "
        f"serve_reconnecting({vhost.url!r}, {str(tmp_path)!r}, {MIN_S!r}, {MAX_S!r})"
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for path in paths:
            with path.open("wb") as out:
                procs.append(
                    subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=out, stderr=out)
                )
        yield paths
    finally:
        vhost.admit()  # never leave the vhost refusing, whatever failed
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def test_four_adapters_reconnect_with_jitter_after_a_broker_restart(
    vhost: Vhost, workers: list[Path], tmp_path: Path
) -> None:
    wait_until(lambda: tasks_consumers(vhost.url) == WORKERS, "all four workers to consume")

    before = [len(reconnects(path)) for path in workers]
    vhost.refuse()
    vhost.close_connections("broker restart (test)")
    wait_until(
        lambda: all(len(reconnects(path)) >= n + ROUNDS for path, n in zip(workers, before, strict=True)),
        f"each worker to fail {ROUNDS} reconnect rounds",
    )
    vhost.admit()
    wait_until(lambda: all(consuming(path) >= 2 for path in workers), "every worker to consume again")
    wait_until(lambda: tasks_consumers(vhost.url) == WORKERS, "four consumers on the task queue")

    rounds = [reconnects(path)[n : n + ROUNDS] for path, n in zip(workers, before, strict=True)]
    for entries in rounds:
        assert [e["attempt"] for e in entries] == list(range(ROUNDS)), entries
    normalized = [
        e["delay_s"] / min(MAX_S, MIN_S * 2 ** e["attempt"]) for entries in rounds for e in entries
    ]
    assert all(0 <= x <= 1 for x in normalized), normalized
    delays = [[e["delay_s"] for e in entries] for entries in rounds]
    attempt_times = sorted(entries[0]["ts"] for entries in rounds)
    assert statistics.pstdev(normalized) > MIN_SPREAD, (
        f"reconnects in lock-step: delays per worker {delays}, first attempts logged at {attempt_times}"
    )

    # All four serve again: a task published now is taken and done.
    broker = Broker(vhost.url)
    try:
        job = make_job(tmp_path, {"mode": "ok", "frames": 3})
        broker.publish(job.model_dump_json().encode())
        events = broker.wait_events(lambda seen: any(e.type == "done" for e in seen), [], timeout=30)
        assert [e.job_id for e in events if e.type == "done"] == [job.job_id]
    finally:
        broker.close()
