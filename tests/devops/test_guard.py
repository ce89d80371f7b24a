"""devops/guard.py: what a launcher leaves behind (grandchildren in other sessions) is killed when it dies."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from devops.guard import STACK_ID_ENV, Guard, marked
from devops.readiness import wait_until

# A launcher stand-in: starts the guard, then a marked child in a session of its own that starts a marked
# grandchild in yet another session (as ffmpeg is), prints their pids, and waits to be killed.
LAUNCHER = """
import os, subprocess, sys, time
from devops.guard import STACK_ID_ENV, Guard
stack_id = sys.argv[1]
guard = Guard(stack_id)
env = dict(os.environ, **{STACK_ID_ENV: stack_id})
sleep = [sys.executable, "-c", "import time; time.sleep(600)"]
code = (f"import subprocess, time; g = subprocess.Popen({sleep!r}, start_new_session=True); "
        "print(g.pid, flush=True); time.sleep(600)")
child = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True,
                         stdout=subprocess.PIPE, text=True)
print(guard.process.pid, child.pid, child.stdout.readline().strip(), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigkill_of_the_launcher_makes_the_guard_kill_the_whole_tree() -> None:
    stack_id = uuid.uuid4().hex
    root = Path(__file__).resolve().parents[2]
    launcher = subprocess.Popen([sys.executable, "-c", LAUNCHER, stack_id], cwd=root, stdout=subprocess.PIPE,
                                text=True, env=dict(os.environ, PYTHONPATH=str(root)))
    assert launcher.stdout is not None
    guard, child, grandchild = (int(pid) for pid in launcher.stdout.readline().split())
    # Not the guard, not the launcher. Waited for: under load a just-started process's environment was once
    # not yet readable (the grandchild missing from the list).
    expected = sorted([child, grandchild])
    wait_until("child and grandchild marked", lambda: sorted(marked(stack_id)) == expected, 10)
    launcher.kill()
    launcher.wait(timeout=10)
    wait_until("the tree is gone", lambda: not _alive(child) and not _alive(grandchild), 30)
    wait_until("the guard is done", lambda: not _alive(guard), 30)
    assert marked(stack_id) == []


def test_close_sweeps_and_ends_the_guard(tmp_path: Path) -> None:
    stack_id = uuid.uuid4().hex
    guard = Guard(stack_id)
    stray = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                             env=dict(os.environ, **{STACK_ID_ENV: stack_id}), start_new_session=True)
    # Popen returns once exec has begun; the new environment is readable a moment later (under load, later).
    wait_until("the stray carries the stack's id", lambda: marked(stack_id) == [stray.pid], 30)
    guard.close()
    assert guard.process.returncode == 0
    assert stray.wait(timeout=10) == -9
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                             env=dict(os.environ, **{STACK_ID_ENV: "another-stack"}))
    try:
        Guard(stack_id).close()
        assert other.poll() is None  # another stack's process is not touched
    finally:
        other.kill()
        other.wait()
