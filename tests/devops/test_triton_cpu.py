"""The CPU model-server image's launcher (devops/triton_cpu.py): a server never ready in time is stopped, so
the container's restart policy starts a fresh one; otherwise the server's exit code is the container's."""

from __future__ import annotations

import os
import sys
import time

from devops.triton_cpu import NOT_READY_EXIT, supervise

#: Nothing listens there (port 9 on loopback: discard, never served here).
NEVER_READY = "http://127.0.0.1:9/v2/health/ready"


def test_a_server_not_ready_in_time_is_stopped() -> None:
    began = time.monotonic()
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    code = supervise(sleeper, dict(os.environ), NEVER_READY, 1.0)
    assert code == NOT_READY_EXIT
    assert time.monotonic() - began < 30


def test_the_servers_exit_code_is_passed_on() -> None:
    assert supervise([sys.executable, "-c", "raise SystemExit(7)"], dict(os.environ), NEVER_READY, 30.0) == 7
