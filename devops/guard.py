"""The stack's guard: a process that outlives the launcher just long enough to kill what it left behind.

PR_SET_PDEATHSIG (devops/process.py) kills the launcher's direct children when it dies, but not their own
children: tritonserver's Python backend stubs, adapters' guarded job processes, ffmpeg. Every process of a
stack carries `STACK_ID_ENV` in its environment, inherited down the tree. The guard holds the read end of a
pipe whose only writer is the launcher; end of file there means the launcher is gone, however it died (even
SIGKILL, from any thread), and the guard SIGKILLs every process still carrying the stack's id.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

STACK_ID_ENV = "VSR_STACK_ID"
PROC = Path("/proc")
ROOT = Path(__file__).resolve().parent.parent


def marked(stack_id: str, proc: Path = PROC) -> list[int]:
    """Pids of live processes (this user's) whose environment carries the stack's id, this one excluded."""
    needle = f"{STACK_ID_ENV}={stack_id}".encode()
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):  # gone meanwhile, or another user's
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
    return found


def sweep(stack_id: str, deadline_s: float = 10.0) -> int:
    """SIGKILL every process of the stack until none is left (or the deadline); returns how many."""
    killed: set[int] = set()
    deadline = time.monotonic() + deadline_s
    # Again until none is left: a process may fork between the scan and the kill. (A zombie's environ
    # reads empty, so the dead do not count.)
    while (pids := marked(stack_id)) and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        killed.update(pids)
        time.sleep(0.1)
    return len(killed)


class Guard:
    """The launcher's end: starts the guard process; `close` (or the launcher's death) makes it sweep."""

    def __init__(self, stack_id: str) -> None:
        self.stack_id = stack_id
        read, self._write = os.pipe()
        env = {key: value for key, value in os.environ.items() if key != STACK_ID_ENV}
        # Its own session: a Ctrl-C to the launcher's terminal group must not reach it first.
        self.process = subprocess.Popen([sys.executable, "-m", "devops.guard", stack_id], stdin=read,
                                        env=env, cwd=ROOT, start_new_session=True)
        os.close(read)

    def close(self, timeout_s: float = 30.0) -> None:
        """Tell the guard to sweep now and wait for it."""
        if self._write >= 0:
            os.close(self._write)
            self._write = -1
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout_s)


def main(argv: list[str] | None = None) -> int:
    """`python -m devops.guard STACK_ID` with the launcher's pipe on stdin."""
    stack_id = (argv or sys.argv[1:])[0]
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while os.read(0, 4096):
        pass
    killed = sweep(stack_id)
    if killed:
        with contextlib.suppress(OSError):  # the launcher's terminal or pipe may be gone with it
            print(f"devops.guard: killed {killed} process(es) the launcher left behind", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
