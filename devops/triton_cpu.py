"""Entry point of the CPU model-server image: prepare the python backend, then become tritonserver.

`exec`, not a child: tritonserver is the container's process, so `docker kill` and the restart policy act on
it directly and its exit code is the container's."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from model_convertation.server import prepare_backends, pytriton_dist, server_argv, server_env


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


def main(args: list[str] | None = None) -> None:
    """Replace this process by tritonserver on the repository given as the only argument."""
    repo = Path((args if args is not None else sys.argv[1:])[0])
    argv, env = argv_and_env(repo, dict(os.environ))
    os.execve(argv[0], argv, env)


if __name__ == "__main__":
    main()
