"""Service: real child processes started, killed (with their children), stopped and restarted."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devops.process import Service, ServiceError
from devops.readiness import free_port, port_open, wait_until

# A child that starts a grandchild, prints both pids and ignores SIGTERM when asked (to test the grace kill).
SCRIPT = """
import os, signal, subprocess, sys, time
if sys.argv[1] == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(os.getpid(), child.pid, flush=True)
time.sleep(600)
"""


def _service(tmp_path: Path, mode: str = "polite") -> Service:
    argv = [sys.executable, "-c", SCRIPT, mode]
    return Service("probe", argv, dict(os.environ), tmp_path / "probe.log", tmp_path)


def _pid_lines(service: Service) -> list[str]:
    return re.findall(r"^(\d+ \d+)$", service.log_path.read_text(), flags=re.MULTILINE)


def _pids(service: Service, starts: int = 1) -> list[int]:
    """The child's and grandchild's pids printed by the `starts`-th run of SCRIPT."""
    wait_until("pids in log", lambda: len(_pid_lines(service)) >= starts, 20)
    return [int(pid) for pid in _pid_lines(service)[starts - 1].split()]


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0); treat it as gone when its state is Z.
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_kill_reaches_grandchildren(tmp_path: Path) -> None:
    service = _service(tmp_path)
    service.start()
    parent, child = _pids(service)
    assert service.alive() and service.pid == parent
    service.kill()
    assert not service.alive()
    wait_until("grandchild gone", lambda: _gone(child), 10)


def test_stop_kills_after_grace_when_sigterm_is_ignored(tmp_path: Path) -> None:
    service = _service(tmp_path, "stubborn")
    service.start()
    _parent, child = _pids(service)
    started = time.monotonic()
    service.stop(grace_s=1.0)
    assert 0.9 < time.monotonic() - started < 10
    assert not service.alive()
    wait_until("grandchild gone", lambda: _gone(child), 10)


def test_restart_gives_a_new_process_and_appends_the_log(tmp_path: Path) -> None:
    service = _service(tmp_path)
    service.start()
    first, _ = _pids(service)
    service.kill()
    service.restart()
    second, _ = _pids(service, starts=2)
    assert second != first and service.restarts == 1
    service.stop(grace_s=5)


def test_check_reports_exit_code_and_log_tail(tmp_path: Path) -> None:
    service = Service("boom", [sys.executable, "-c", "print('bad config'); raise SystemExit(3)"],
                      dict(os.environ), tmp_path / "boom.log", tmp_path)
    service.start()
    assert service.process is not None
    service.process.wait(timeout=20)
    with pytest.raises(ServiceError, match=r"(?s)exited with code 3.*bad config"):
        service.check()


def test_starting_twice_is_refused(tmp_path: Path) -> None:
    service = _service(tmp_path)
    service.start()
    try:
        with pytest.raises(ServiceError, match="already running"):
            service.start()
    finally:
        service.stop(grace_s=5)


def test_wait_until_fails_fast_when_the_watched_child_dies(tmp_path: Path) -> None:
    service = Service("dies", [sys.executable, "-c", "raise SystemExit(1)"], dict(os.environ),
                      tmp_path / "dies.log", tmp_path)
    service.start()
    started = time.monotonic()
    with pytest.raises(ServiceError, match="exited with code 1"):
        wait_until("never", lambda: False, 60, service)
    assert time.monotonic() - started < 20


def test_free_port_is_not_listening() -> None:
    assert not port_open("127.0.0.1", free_port())


# A launcher stand-in: starts a Service (no guard), prints its pid, waits to be killed.
PARENT = """
import os, sys, time
from pathlib import Path
from devops.process import Service
service = Service("orphan", [sys.executable, "-c", "import time; time.sleep(600)"], dict(os.environ),
                  Path(sys.argv[1]), Path.cwd())
service.start()
print(service.pid, flush=True)
time.sleep(600)
"""


def test_a_child_dies_with_a_sigkilled_parent(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path / "orphan.log")], cwd=root,
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(root)))
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert not _gone(child)
    parent.kill()
    parent.wait(timeout=10)
    wait_until("child gone with its parent (PR_SET_PDEATHSIG)", lambda: _gone(child), 10)


def test_a_child_started_from_a_short_lived_thread_outlives_the_thread(tmp_path: Path) -> None:
    service = _service(tmp_path)
    starter = threading.Thread(target=service.start)
    starter.start()
    starter.join()
    try:
        # With PR_SET_PDEATHSIG it would have been killed at the thread's exit, before printing its pids.
        parent, _child = _pids(service)
        assert service.alive() and service.pid == parent
    finally:
        service.stop(grace_s=5)
