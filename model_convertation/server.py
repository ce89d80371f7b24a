"""Standalone tritonserver from the nvidia-pytriton wheel, started on CPU with a given model repository."""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import os
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

STOP_TIMEOUT_S = 30.0


class TritonStartError(RuntimeError):
    """tritonserver exited or did not become ready in time."""


def pytriton_dist() -> Path:
    """Folder of the tritonserver distribution bundled by nvidia-pytriton."""
    found = importlib.util.find_spec("pytriton")
    if found is None or not found.submodule_search_locations:
        raise TritonStartError("nvidia-pytriton is not installed: pip install nvidia-pytriton")
    return Path(next(iter(found.submodule_search_locations))) / "tritonserver"


def prepare_backends(dist: Path, target: Path) -> Path:
    """Copy the python backend into `target/python` with the stub matching this interpreter next to it."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    stub = dist / "python_backend_stubs" / version / "triton_python_backend_stub"
    if not stub.is_file():
        raise TritonStartError(f"no python backend stub for Python {version} in {dist}")
    backend = target / "python"
    shutil.copytree(
        dist / "backends" / "python",
        backend,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy2(stub, backend / "triton_python_backend_stub")
    return target


def server_env(dist: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for tritonserver and its stub: bundled libs, this interpreter's libpython and packages."""
    env = dict(os.environ if base is None else base)
    # The stub dlopens libpython3.x: prefer the one this venv was built from over the system's.
    libdirs = [str(dist.parent.parent / "nvidia_pytriton.libs"), sysconfig.get_config_var("LIBDIR") or ""]
    env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in [*libdirs, env.get("LD_LIBRARY_PATH", "")] if p)
    # The stub imports numpy (and model.py imports openvino) before any model code can fix sys.path.
    packages = [*site.getsitepackages(), str(Path(__file__).resolve().parent.parent)]
    env["PYTHONPATH"] = os.pathsep.join(p for p in [*packages, env.get("PYTHONPATH", "")] if p)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def server_argv(
    binary: Path,
    repo: Path,
    backends: Path,
    http_port: int,
    grpc_port: int,
    metrics_port: int,
    models: list[str] | None = None,
    address: str = "127.0.0.1",
) -> list[str]:
    """Command line for a CPU tritonserver serving `repo`."""
    argv = [
        str(binary),
        f"--model-repository={repo}",
        f"--backend-directory={backends}",
        f"--http-port={http_port}",
        f"--grpc-port={grpc_port}",
        f"--metrics-port={metrics_port}",
        f"--http-address={address}",
        f"--grpc-address={address}",
        f"--metrics-address={address}",
        "--allow-gpu-metrics=false",
        "--strict-readiness=true",
        "--exit-timeout-secs=10",
        "--log-verbose=0",
    ]
    if models:
        argv.append("--model-control-mode=explicit")
        argv += [f"--load-model={name}" for name in models]
    return argv


def _die_with_parent() -> None:
    """Runs in the child: SIGTERM it when the parent dies, so tests never leak servers."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class TritonServer:
    """Context manager: start tritonserver, wait for /v2/health/ready, stop on exit."""

    def __init__(
        self,
        repo: Path,
        *,
        http_port: int = 8000,
        grpc_port: int = 8001,
        metrics_port: int = 8002,
        models: list[str] | None = None,
        log_path: Path | None = None,
        ready_timeout_s: float = 120.0,
        host: str = "127.0.0.1",
        address: str = "127.0.0.1",
    ) -> None:
        self.repo = repo.resolve()
        self.http_port, self.grpc_port, self.metrics_port = http_port, grpc_port, metrics_port
        self.models = models
        self.ready_timeout_s = ready_timeout_s
        self.host = host  # where clients connect
        self.address = address  # where the server listens (0.0.0.0 in containers)
        self._workdir = Path(tempfile.mkdtemp(prefix="vsr-triton-"))
        self.log_path = log_path or self._workdir / "tritonserver.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def grpc_url(self) -> str:
        """host:port for tritonclient.grpc."""
        return f"{self.host}:{self.grpc_port}"

    @property
    def http_url(self) -> str:
        """host:port for tritonclient.http."""
        return f"{self.host}:{self.http_port}"

    @property
    def pid(self) -> int | None:
        """Process id of the running tritonserver (None when stopped)."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def start(self) -> TritonServer:
        """Launch the process and block until it is ready."""
        if not self.repo.is_dir():
            raise TritonStartError(
                f"model repository {self.repo} does not exist; run: python -m model_convertation build"
            )
        dist = pytriton_dist()
        backends = prepare_backends(dist, self._workdir / "backends")
        argv = server_argv(
            dist / "bin" / "tritonserver",
            self.repo,
            backends,
            self.http_port,
            self.grpc_port,
            self.metrics_port,
            self.models,
            self.address,
        )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                argv,
                env=server_env(dist),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        url = f"http://{self.http_url}/v2/health/ready"
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise TritonStartError(
                    f"tritonserver exited with {self._process.returncode}: {self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise TritonStartError(
            f"tritonserver not ready after {self.ready_timeout_s:.0f} s: {self.log_tail()}"
        )

    def log_tail(self, lines: int = 15) -> str:
        """Last lines of the server log (for error messages)."""
        try:
            return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGINT, wait, then SIGKILL; remove the temporary backend folder."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)
        shutil.rmtree(self._workdir / "backends", ignore_errors=True)

    def __enter__(self) -> TritonServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
