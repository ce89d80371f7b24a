"""`make up`'s launcher SIGKILLed: nothing it started survives, and the next `make up` starts cleanly.

Each launcher runs `python -m devops.local up` (what `make up` runs) with 1 adapter on free ports in a
private vhost. Its environment carries a marker every process it starts inherits (adapters, the backend,
tritonserver and its Python backend stubs, guarded job children, ffmpeg), so the survivors are found by a
/proc scan, whoever their parent is now.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devops.broker import Vhost, broker_answers
from devops.local import DEFAULT_AMQP_URL, ROOT
from devops.readiness import free_port, http_ok, wait_until
from tests.fixtures.e2e import clip, running, upload, wait_job
from tests.fixtures.services import require
from tests.fixtures.stack import STACK_MODEL

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]

MARK = "VSR_LAUNCHER_TEST_MARK"
READY_S = 420.0  # a cold tritonserver on a busy 2-core machine
GONE_S = 60.0


def marked(mark: str) -> dict[int, str]:
    """pid → command line of every live process whose environment carries `mark` (zombies excluded)."""
    needle = f"{MARK}={mark}".encode()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or another user's
            continue
        if state != "Z":
            found[int(entry.name)] = command.strip()
    return found


@dataclass
class Ports:
    """The ports one stack listens on; a second launcher reuses them."""

    backend: int
    adapter: int
    http: int
    grpc: int
    metrics: int


class Launcher:
    """One `python -m devops.local up` with its own marker and its output in a file."""

    def __init__(self, run: Path, env: dict[str, str]) -> None:
        self.mark = uuid.uuid4().hex
        self.output = run / f"launcher-{self.mark[:8]}.out"
        argv = [sys.executable, "-m", "devops.local", "up", "--skip-build", "--adapters", "1",
                "--models", STACK_MODEL, "--run-dir", str(run)]
        run.mkdir(parents=True, exist_ok=True)
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(argv, cwd=ROOT, env={**env, MARK: self.mark},
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def children(self) -> dict[int, str]:
        """Live processes it started (directly or not), itself excluded."""
        return {pid: cmd for pid, cmd in marked(self.mark).items() if pid != self.process.pid}

    def wait_for(self, what: str, timeout: float = READY_S) -> None:
        """Wait until `what` is in its output; fail at once with the output when it exits first."""
        def seen() -> bool:
            assert self.process.poll() is None, f"launcher exited ({self.process.returncode}):\n{self.text()}"
            return what in self.text()
        wait_until(f"launcher output {what!r}", seen, timeout)

    def sigkill(self) -> dict[int, str]:
        """SIGKILL the launcher (and reap it); returns the processes it had started."""
        started = self.children()
        self.process.kill()
        self.process.wait(timeout=30)
        return started

    def close(self) -> None:
        """Ctrl-C and wait; SIGKILL if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def stack_env(tmp_path: Path) -> Iterator[tuple[dict[str, str], Ports]]:
    """Environment of a launcher in a private vhost on free ports, with slow frames so jobs can be hit."""
    base_url = os.environ.get("AMQP_URL", DEFAULT_AMQP_URL)
    require(broker_answers(base_url) and Vhost(base_url).available, "RabbitMQ at AMQP_URL, and rabbitmqctl")
    ports = Ports(*(free_port() for _ in range(5)))
    with Vhost(base_url) as vhost:
        yield {
            **os.environ, "AMQP_URL": vhost.url, "BACKEND_PORT": str(ports.backend),
            "ADAPTER_METRICS_PORT": str(ports.adapter), "TRITON_HTTP_PORT": str(ports.http),
            "TRITON_GRPC_PORT": str(ports.grpc), "TRITON_METRICS_PORT": str(ports.metrics),
            "STORAGE_ROOT": str(tmp_path / "storage"), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "TEST_FRAME_DELAY_MS": "100", "QUOTA_ACTIVE_JOBS": "0", "QUOTA_UPLOADS_PER_HOUR": "0",
            "QUOTA_ADDRESS_UPLOADS_PER_HOUR": "0",
        }, ports


def assert_all_gone(launcher: Launcher, started: dict[int, str]) -> None:
    """Nothing the killed launcher had started is left, within GONE_S."""
    try:
        wait_until("every process of the killed launcher gone", lambda: not launcher.children(), GONE_S)
    except Exception:
        pytest.fail(f"survivors of SIGKILL of the launcher: {launcher.children()}\n(had started {started})")


def starts_cleanly(run: Path, env: dict[str, str], ports: Ports) -> Launcher:
    """A second launcher on the same ports gets ready (its /readyz answers)."""
    second = Launcher(run, env)
    second.wait_for("Ready:")
    assert "is held by" not in second.text()
    assert http_ok(f"http://127.0.0.1:{ports.backend}/readyz")
    return second


def test_sigkill_right_after_start_leaves_nothing(
    tmp_path: Path, stack_env: tuple[dict[str, str], Ports]
) -> None:
    env, ports = stack_env
    first = Launcher(tmp_path / "run", env)
    try:
        first.wait_for("started tritonserver (pid")
        # Killed while Triton loads its model, once its Python backend stub (a grandchild) runs.
        wait_until("tritonserver's python stub", lambda: any(
            "triton_python_backend_stub" in command for command in first.children().values()), READY_S)
        started = first.sigkill()
    finally:
        first.close()
    assert any("tritonserver" in command for command in started.values())
    assert_all_gone(first, started)
    second = starts_cleanly(tmp_path / "run", env, ports)
    try:
        commands = " ".join(second.children().values())
        assert "tritonserver" in commands and "-m adapter" in commands and "-m backend" in commands
    finally:
        second.close()
    assert second.process.returncode == 0, second.text()
    assert not second.children(), f"left after Ctrl-C: {second.children()}"


def test_sigkill_mid_job_leaves_nothing_and_the_job_survives(
    tmp_path: Path, stack_env: tuple[dict[str, str], Ports]
) -> None:
    env, ports = stack_env
    video = clip(tmp_path, "long.mp4", seconds=8)  # 200 frames × 100 ms: it runs for 20 s or more
    first = Launcher(tmp_path / "run", env)
    second: Launcher | None = None
    try:
        first.wait_for("Ready:")
        with httpx.Client(base_url=f"http://127.0.0.1:{ports.backend}", timeout=60) as api:
            assert api.get("/api/jobs").status_code == 200 and api.cookies
            job = upload(api, video)
            seen = wait_job(api, job["id"], lambda j: running(j) or j["status"] in ("done", "failed"), 300)
            assert running(seen), f"job was not running when the launcher was due to die: {seen}"
            started = first.sigkill()
            assert_all_gone(first, started)
            second = starts_cleanly(tmp_path / "run", env, ports)
            # The delivery the killed adapter held goes back to the queue: the job still ends done.
            assert wait_job(api, job["id"], timeout=600)["status"] == "done"
    finally:
        first.close()
        if second is not None:
            second.close()


def test_held_port_is_named_and_refused(tmp_path: Path, stack_env: tuple[dict[str, str], Ports]) -> None:
    env, ports = stack_env
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports.http))
        squatter.listen()
        launcher = Launcher(tmp_path / "run", env)
        try:
            assert launcher.process.wait(timeout=120) != 0
        finally:
            launcher.close()
    text = launcher.text()
    assert f"port {ports.http} (tritonserver http) is held by pid {os.getpid()}" in text, text
    # Nothing was started: no service, not even its log folder.
    assert not re.search(r"started \S+ \(pid", text) and not (tmp_path / "run" / "logs").exists()


def test_killed_tritonserver_is_restarted_by_the_launcher(
    tmp_path: Path, stack_env: tuple[dict[str, str], Ports]
) -> None:
    env, ports = stack_env
    launcher = Launcher(tmp_path / "run", env)
    try:
        launcher.wait_for("Ready:")
        [old] = [pid for pid, command in launcher.children().items() if "bin/tritonserver" in command]
        os.kill(old, signal.SIGKILL)
        launcher.wait_for("tritonserver exited with code -9; restarting in", timeout=60)
        launcher.wait_for("tritonserver restarted", timeout=120)
        ready = f"http://127.0.0.1:{ports.http}/v2/models/{STACK_MODEL}/ready"
        wait_until("the restarted tritonserver's model ready", lambda: http_ok(ready), READY_S)
        [new] = [pid for pid, command in launcher.children().items() if "bin/tritonserver" in command]
        assert new != old
    finally:
        launcher.close()
    assert launcher.process.returncode == 0, launcher.text()
    assert not launcher.children(), f"left after Ctrl-C: {launcher.children()}"


def test_sigterm_then_sigkill_3s_later_leaves_nothing(
    tmp_path: Path, stack_env: tuple[dict[str, str], Ports]
) -> None:
    env, ports = stack_env
    launcher = Launcher(tmp_path / "run", env)
    try:
        launcher.wait_for("Ready:")
        started = launcher.children()
        # As a supervisor or CI script stops it (issue 20, fault 6): the graceful stop is cut short.
        launcher.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            launcher.process.wait(timeout=3)
        launcher.sigkill()
    finally:
        launcher.close()
    assert_all_gone(launcher, started)
    starts_cleanly(tmp_path / "run", env, ports).close()
