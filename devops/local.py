"""Local stack without containers: Triton on the CPU model repository, N adapter workers and the backend.

`python -m devops.local up` is what `make up`; tests use `Stack` through tests/fixtures/stack.py.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType, TracebackType

from devops.broker import ensure_broker, tasks_consumers
from devops.guard import STACK_ID_ENV, Guard
from devops.ports import held_ports_report
from devops.process import Service, ServiceError, tail
from devops.readiness import http_ok, wait_until
from devops.supervisor import Policy, Supervisor, Watch
from model_convertation.server import prepare_backends, pytriton_dist, server_argv, server_env

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
log = logging.getLogger("devops.local")


@dataclass
class StackConfig:
    """Everything a local stack needs; paths default to folders under `run_dir`."""

    run_dir: Path
    amqp_url: str = DEFAULT_AMQP_URL
    storage_root: Path | None = None
    database_url: str | None = None
    backend_port: int = 8008
    adapters: int = 2
    #: One metrics port per adapter; default 9108, 9109, ...
    adapter_metrics_ports: list[int] | None = None
    #: Models to build and serve; None = every model of the catalog.
    models: list[str] | None = None
    with_triton: bool = True
    triton_http_port: int = 8000
    triton_grpc_port: int = 8001
    triton_metrics_port: int = 8002
    repo: Path = ROOT / "tensorrt_models_running"
    models_dir: Path = ROOT / ".models" / "onnx"
    build: bool = True
    python: str = sys.executable
    ready_timeout_s: float = 300.0
    stop_grace_s: float = 10.0
    #: Restart backoff and liveness of `supervise` (docs/operations.md "Supervision (make up)").
    policy: Policy = field(default_factory=Policy)
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir).resolve()
        self.storage_root = Path(self.storage_root or self.run_dir / "storage").resolve()
        self.database_url = self.database_url or f"sqlite:///{self.run_dir / 'backend.db'}"
        if self.adapter_metrics_ports is None:
            self.adapter_metrics_ports = [9108 + index for index in range(self.adapters)]
        if len(self.adapter_metrics_ports) != self.adapters:
            raise ValueError("need exactly one metrics port per adapter")

    def ports(self) -> dict[int, str]:
        """Every TCP port the stack listens on → what listens there."""
        roles = {self.backend_port: "backend"}
        assert self.adapter_metrics_ports is not None
        roles.update({port: f"adapter-{i} metrics" for i, port in enumerate(self.adapter_metrics_ports)})
        if self.with_triton:
            roles[self.triton_http_port] = "tritonserver http"
            roles[self.triton_grpc_port] = "tritonserver grpc"
            roles[self.triton_metrics_port] = "tritonserver metrics"
        return roles


def kept_token(run_dir: Path, name: str = "ops_token") -> str:
    """A random token kept in ``run_dir/name`` (made once, mode 0600 from its creation)."""
    path = Path(run_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


class Stack:
    """Context manager that starts the local stack, waits until it is ready and stops it on exit."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.log_dir = config.run_dir / "logs"
        self.triton: Service | None = None
        self.adapters: list[Service] = []
        self.backend: Service | None = None
        #: In every child's environment: the guard finds what the stack left behind by it.
        self.stack_id = uuid.uuid4().hex
        self.guard: Guard | None = None
        #: The backend's operator token (/metrics, API docs): OPS_TOKEN, else one kept in run_dir/ops_token.
        self.ops_token = (
            config.extra_env.get("OPS_TOKEN") or os.environ.get("OPS_TOKEN") or kept_token(config.run_dir)
        )

    # -- addresses -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """Backend (and page) URL."""
        return f"http://127.0.0.1:{self.config.backend_port}"

    @property
    def amqp_url(self) -> str:
        """Broker URL every service of this stack uses."""
        return self.config.amqp_url

    @property
    def storage_root(self) -> Path:
        """Shared storage folder of this stack."""
        assert self.config.storage_root is not None
        return self.config.storage_root

    @property
    def triton_url(self) -> str:
        """gRPC address of Triton given to adapters; empty when they run the model in-process."""
        return f"127.0.0.1:{self.config.triton_grpc_port}" if self.config.with_triton else ""

    @property
    def triton_http_url(self) -> str:
        """Triton HTTP base URL (health, model readiness)."""
        return f"http://127.0.0.1:{self.config.triton_http_port}"

    # -- building blocks -------------------------------------------------------------------------
    def _env(self, **values: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.config.extra_env)
        env.update(PYTHONUNBUFFERED="1", AMQP_URL=self.amqp_url, STORAGE_ROOT=str(self.storage_root))
        env[STACK_ID_ENV] = self.stack_id
        env.update(values)
        return env

    def _service(self, name: str, *args: str, **env: str) -> Service:
        argv = [self.config.python, *args]
        return Service(name, argv, self._env(**env), self.log_dir / f"{name}.log", ROOT)

    def build_models(self) -> None:
        """Build ONNX files and the CPU Triton repository (the builder skips what is up to date)."""
        argv = [self.config.python, "-m", "model_convertation", "build", "--target", "cpu"]
        if self.config.models:
            argv += ["--models", ",".join(self.config.models)]
        log_path = self.log_dir / "build.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as out:
            result = subprocess.run(
                argv, cwd=ROOT, env=self._env(), stdout=out, stderr=subprocess.STDOUT, timeout=3600,
                check=False,
            )
        if result.returncode != 0:
            raise ServiceError(f"model build failed ({result.returncode}); log {log_path}:\n{tail(log_path)}")

    def check_ports(self) -> None:
        """Refuse to start (ServiceError naming each holder) when a port of this stack is already held."""
        report = held_ports_report(self.config.ports())
        if report:
            raise ServiceError(f"{report}\nanother stack is running? stop it first; nothing was started")

    def _triton_service(self) -> Service:
        """tritonserver itself, not a wrapper: its exit is the service's exit, which `supervise` sees."""
        cfg = self.config
        dist = pytriton_dist()
        backends = prepare_backends(dist, cfg.run_dir / "triton-backends")
        argv = server_argv(dist / "bin" / "tritonserver", cfg.repo, backends, cfg.triton_http_port,
                           cfg.triton_grpc_port, cfg.triton_metrics_port, cfg.models)
        env = server_env(dist, self._env())
        return Service("tritonserver", argv, env, self.log_dir / "tritonserver.log", ROOT)

    def _triton_ready(self) -> bool:
        if not http_ok(f"{self.triton_http_url}/v2/health/ready"):
            return False
        models = self.config.models or []
        return all(http_ok(f"{self.triton_http_url}/v2/models/{name}/ready") for name in models)

    def _adapters_ready(self) -> bool:
        for adapter in self.adapters:
            adapter.check()  # an adapter that died while starting fails the wait at once
        return tasks_consumers(self.amqp_url) >= len(self.adapters)

    def _wait_adapters(self) -> None:
        wait_until("adapters consuming vsr.tasks", self._adapters_ready, self.config.ready_timeout_s)

    def _wait_triton(self) -> None:
        wait_until("Triton /v2/health/ready", self._triton_ready, self.config.ready_timeout_s, self.triton)

    def _wait_backend(self) -> None:
        assert self.backend is not None
        wait_until("backend /readyz", lambda: http_ok(f"{self.base_url}/readyz"), self.config.ready_timeout_s,
                   self.backend)

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Stack:
        """Build, then start Triton, adapters and backend, waiting for each to be ready."""
        cfg = self.config
        self.check_ports()
        self.guard = Guard(self.stack_id)
        self.storage_root.mkdir(parents=True, exist_ok=True)
        if cfg.build:
            self.build_models()
        if cfg.with_triton:
            self.triton = self._triton_service()
            self._started(self.triton)
            self._wait_triton()
        assert cfg.adapter_metrics_ports is not None
        for index, port in enumerate(cfg.adapter_metrics_ports):
            adapter = self._service(f"adapter-{index}", "-m", "adapter", "worker", TRITON_URL=self.triton_url,
                                    MODELS_DIR=str(cfg.models_dir), ADAPTER_METRICS_PORT=str(port))
            self.adapters.append(adapter)
            self._started(adapter)
        # The backend's /readyz asks Triton too (a stack without Triton runs the model in the adapters).
        ready = {"MODEL_READY_URL": f"{self.triton_http_url}/v2/health/ready"} if cfg.with_triton else {}
        self.backend = self._service("backend", "-m", "backend", DATABASE_URL=str(cfg.database_url),
                                     BACKEND_PORT=str(cfg.backend_port), OPS_TOKEN=self.ops_token, **ready)
        self._started(self.backend)
        self._wait_backend()
        self._wait_adapters()
        return self

    @staticmethod
    def _started(service: Service) -> None:
        service.start()
        log.info("started %s (pid %s)", service.name, service.pid)

    def services(self) -> list[Service]:
        """Every started service, backend first (the order they are stopped in)."""
        found = [self.backend, *self.adapters, self.triton]
        return [service for service in found if service is not None]

    def stop(self) -> None:
        """SIGTERM everything at once, then SIGKILL what is left after the grace period."""
        for service in self.services():
            service.terminate()
        for service in self.services():
            service.stop(self.config.stop_grace_s)
        if self.guard is not None:
            self.guard.close()  # whatever a service left behind (a grandchild in another session)
            self.guard = None

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- failure injection (tests) -----------------------------------------------------------------
    def kill_adapter(self, index: int = 0) -> None:
        """kill -9 one adapter, as a crash or OOM kill would."""
        self.adapters[index].kill()

    def restart_adapter(self, index: int = 0) -> None:
        """Start one adapter again (after a kill, or gracefully restarting a live one) and wait for it."""
        self.adapters[index].restart(self.config.stop_grace_s)
        self._wait_adapters()

    def kill_backend(self) -> None:
        """kill -9 the backend."""
        assert self.backend is not None
        self.backend.kill()

    def restart_backend(self) -> None:
        """Start the backend again and wait for /readyz."""
        assert self.backend is not None
        self.backend.restart(self.config.stop_grace_s)
        self._wait_backend()

    def kill_triton(self) -> None:
        """kill -9 tritonserver (and its Python backend stubs), as a crash or OOM kill would."""
        assert self.triton is not None
        self.triton.kill()

    def restart_triton(self) -> None:
        """Start tritonserver again and wait until it and the stack's models are ready."""
        assert self.triton is not None
        self.triton.restart(self.config.stop_grace_s)
        self._wait_triton()

    def watches(self) -> list[Watch]:
        """Services, liveness probes: Triton /v2/health/live, adapters /metrics, backend /healthz."""
        assert self.config.adapter_metrics_ports is not None
        found: list[Watch] = []
        if self.triton is not None:
            found.append(Watch(self.triton, partial(http_ok, f"{self.triton_http_url}/v2/health/live")))
        # Liveness, not readiness: an adapter waiting out a Triton outage is not-ready but must not restart.
        for adapter, port in zip(self.adapters, self.config.adapter_metrics_ports, strict=False):
            found.append(Watch(adapter, partial(http_ok, f"http://127.0.0.1:{port}/metrics")))
        if self.backend is not None:
            found.append(Watch(self.backend, partial(http_ok, f"{self.base_url}/healthz")))
        return found

    def supervise(self, poll_s: float = 1.0) -> None:
        """Run until interrupted, restarting any service that exits or freezes (docs/operations.md)."""
        Supervisor(self.watches(), self.config.policy).run(poll_s)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """`python -m devops.local up`: start the local stack in the foreground; Ctrl-C stops it."""
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m devops.local", description=main.__doc__)
    parser.add_argument("command", choices=["up"])
    parser.add_argument("--adapters", type=int, default=int(env.get("ADAPTERS", "2")))
    parser.add_argument("--port", type=int, default=int(env.get("BACKEND_PORT", "8008")))
    parser.add_argument("--models", default=env.get("MODELS", ""), help="comma-separated; empty = all")
    parser.add_argument("--no-triton", action="store_true", help="adapters run the model in-process")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--run-dir", type=Path, default=ROOT / "var" / "run")
    parser.add_argument("--metrics-port", type=int, default=int(env.get("ADAPTER_METRICS_PORT", "9108")),
                        help="metrics port of the first adapter; the next ones count up")
    parser.add_argument("--liveness-misses", type=int, default=Policy.misses,
                        help="failed liveness polls in a row that restart a service; 0 = on exit only")
    parser.add_argument("--restart-max-s", type=float, default=Policy.max_s,
                        help="longest wait between restarts of a crash-looping service")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("pika").setLevel(logging.WARNING)  # one line per socket event otherwise
    amqp_url = env.get("AMQP_URL", DEFAULT_AMQP_URL)
    config = StackConfig(
        run_dir=args.run_dir, amqp_url=amqp_url, backend_port=args.port, adapters=args.adapters,
        adapter_metrics_ports=[args.metrics_port + index for index in range(args.adapters)],
        models=[name.strip() for name in args.models.split(",") if name.strip()] or None,
        with_triton=not args.no_triton, build=not args.skip_build,
        storage_root=Path(env.get("STORAGE_ROOT", ROOT / "var" / "storage")),
        database_url=env.get("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'backend.db'}"),
        triton_http_port=int(env.get("TRITON_HTTP_PORT", "8000")),
        triton_grpc_port=int(env.get("TRITON_GRPC_PORT", "8001")),
        triton_metrics_port=int(env.get("TRITON_METRICS_PORT", "8002")),
        policy=Policy(misses=args.liveness_misses, max_s=args.restart_max_s),
    )
    # Both explicitly: a shell that starts us in the background may have set SIGINT to "ignore".
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    started_broker = False
    try:
        stack = Stack(config)
        stack.check_ports()  # before anything starts, the broker included
        started_broker = ensure_broker(amqp_url)
        with stack:
            url = f"http://localhost:{config.backend_port}"
            print(f"\n  Ready: {url}  (logs in {stack.log_dir}; Ctrl-C stops)", flush=True)
            print(f"  /metrics and /docs need: Authorization: Bearer <{stack.config.run_dir}/ops_token>\n",
                  flush=True)
            stack.supervise()
    except KeyboardInterrupt:
        print("\nstopped", flush=True)
    except (ServiceError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if started_broker:
            subprocess.run(["rabbitmqctl", "shutdown"], check=False, timeout=120, capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
