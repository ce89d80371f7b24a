"""One supervised child process: started in its own session with its log in a file, killed or stopped.

Every child started from the main thread is tied to the launcher's life with ``PR_SET_PDEATHSIG``: when
the launcher dies, even by SIGKILL, the kernel SIGKILLs the child. The signal fires when the *thread* that
forked the child exits, so a child started from another thread (a test's worker thread) does not get it,
or it would die with that thread; devops/guard.py still sweeps it when the launcher dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class ServiceError(RuntimeError):
    """A child process failed to start, exited early, or did not become ready in time."""


PR_SET_PDEATHSIG = 1
# Resolved here, in the parent: loading a library between fork and exec can deadlock.
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def die_with(parent_pid: int) -> Callable[[], None] | None:
    """A `preexec_fn` that makes the child get SIGKILL when `parent_pid` (this process) dies."""
    prctl = _PRCTL
    if prctl is None:
        return None

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        # The parent may have died between fork and prctl; then nothing would ever send the signal.
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def tail(path: Path, lines: int = 30) -> str:
    """Last lines of a log file (empty when it does not exist yet)."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class Service:
    """A named child process whose stdout and stderr go to `log_path` (appended across restarts)."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    log_path: Path
    cwd: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    restarts: int = field(default=0, init=False)

    @property
    def pid(self) -> int | None:
        """Process id of the running child, or None."""
        return self.process.pid if self.process is not None else None

    def alive(self) -> bool:
        """True while the child runs."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the child in a new session (a kill reaches its own children) that dies with this process."""
        if self.alive():
            raise ServiceError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            header = f"\n=== {self.name} start {time.strftime('%H:%M:%S')}: {' '.join(self.argv)}\n"
            log.write(header.encode())
            log.flush()
            self.process = subprocess.Popen(
                list(self.argv),
                env=dict(self.env),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with(os.getpid()) if _main_thread() else None,
            )

    def _signal_group(self, sig: signal.Signals) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL the child and its process group, as a crash would, and reap it."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self) -> None:
        """Ask the child to stop (SIGTERM to its process group) without waiting."""
        if self.process is not None and self.process.poll() is None:
            self._signal_group(signal.SIGTERM)

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM, wait up to `grace_s`, then SIGKILL; always reaps the whole process group."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace_s)
        # Grandchildren (e.g. Triton's Python backend stubs) may outlive the leader; clear the group.
        self._signal_group(signal.SIGKILL)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired as exc:
            raise ServiceError(f"{self.name} (pid {self.pid}) did not exit after SIGKILL") from exc

    def restart(self, grace_s: float = 10.0) -> None:
        """Stop (if running) and start again."""
        self.stop(grace_s)
        self.restarts += 1
        self.start()

    def check(self) -> None:
        """Raise with the log tail when the child has exited."""
        if self.process is not None and self.process.poll() is not None:
            raise ServiceError(
                f"{self.name} exited with code {self.process.returncode}; log {self.log_path}:\n"
                f"{tail(self.log_path)}"
            )
