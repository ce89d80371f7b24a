"""Entry point of the CPU model-server image: prepare the python backend, then run tritonserver.

With TRITON_START_TIMEOUT_S unset (or 0) the process becomes tritonserver (`exec`). With it set, tritonserver
runs as its child: a server not ready within that many seconds is killed and this process exits non-zero, so
the container's restart policy starts a fresh one (a python-backend stub was seen, rarely, to hang after its
model loaded on a busy host, leaving the container up but never ready, which no restart policy notices).
Signals are passed on, and the child's exit code is the container's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

from model_convertation.server import prepare_backends, pytriton_dist, server_argv, server_env

#: Exit code when tritonserver was not ready in time.
NOT_READY_EXIT = 3


def argv_and_env(repo: Path, environ: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """tritonserver's command line and environment for `repo`, ports and models from `environ`."""
    dist = pytriton_dist()
    backends = prepare_backends(dist, Path(tempfile.mkdtemp(prefix="triton-backends-")))
    models = [name for name in environ.get("MODELS", "").split(",") if name.strip()]
    argv = server_argv(
        dist / "bin" / "tritonserver", repo, backends,
        int(environ.get("TRITON_HTTP_PORT", "8000")), int(environ.get("TRITON_GRPC_PORT", "8001")),
        int(environ.get("TRITON_METRICS_PORT", "8002")), models or None,
        address=environ.get("TRITON_ADDRESS", "127.0.0.1"),
    )  # fmt: skip
    return argv, server_env(dist, environ)


def ready(url: str) -> bool:
    """Whether tritonserver answers 200 on its readiness URL."""
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return bool(answer.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def supervise(argv: list[str], env: dict[str, str], ready_url: str, budget_s: float) -> int:
    """Run tritonserver as a child; kill it when not ready within `budget_s`; its exit code."""
    child = subprocess.Popen(argv, env=env)

    def forward(signum: int, _frame: FrameType | None) -> None:
        child.send_signal(signum)

    previous = {signum: signal.signal(signum, forward) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        deadline = time.monotonic() + budget_s
        while child.poll() is None and not ready(ready_url):
            if time.monotonic() > deadline:
                print(f"triton_cpu: not ready after {budget_s:.0f} s: stopped for a restart", file=sys.stderr)
                child.kill()
                child.wait()
                return NOT_READY_EXIT
            time.sleep(1)
        return child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(args: list[str] | None = None) -> int:
    """Run tritonserver on the repository given as the only argument."""
    repo = Path((args if args is not None else sys.argv[1:])[0])
    environ = dict(os.environ)
    argv, env = argv_and_env(repo, environ)
    budget_s = float(environ.get("TRITON_START_TIMEOUT_S", "0") or 0)
    if budget_s <= 0:
        os.execve(argv[0], argv, env)
    ready_url = f"http://127.0.0.1:{environ.get('TRITON_HTTP_PORT', '8000')}/v2/health/ready"
    return supervise(argv, env, ready_url, budget_s)


if __name__ == "__main__":
    sys.exit(main())
