"""Prometheus metrics of one adapter (jobs by outcome, throughput, inference latency, failures) and its
HTTP port: ``/metrics`` and ``/readyz`` (200 only while the worker takes tasks with the model ready).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from adapter.worker.endpoint import bind_first_free


class Metrics:
    """The adapter's metrics in their own registry, so tests and several workers do not collide."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.jobs = Counter(
            "vsr_adapter_jobs", "Deliveries handled, by outcome", ["outcome"], registry=self.registry
        )
        self.failures = Counter(
            "vsr_adapter_failures", "Job failures by error class", ["kind"], registry=self.registry
        )
        self.frames = Counter("vsr_adapter_frames", "Frames upscaled", registry=self.registry)
        self.fps = Gauge("vsr_adapter_fps", "Frames per second of the running job", registry=self.registry)
        self.job_seconds = Histogram(
            "vsr_adapter_job_seconds",
            "Wall time of one job",
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200),
            registry=self.registry,
        )
        self.inference_seconds = Histogram(
            "vsr_adapter_inference_seconds",
            "Latency of one inference call",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.reconnects = Counter("vsr_adapter_reconnects", "Broker reconnections", registry=self.registry)
        self.busy = Gauge("vsr_adapter_busy", "1 while a job is running", registry=self.registry)
        self.model_ready = Gauge(
            "vsr_adapter_model_ready", "1 while the model server and model are ready", registry=self.registry
        )

    def serve(
        self, port: int | range, ready: Callable[[], bool] = lambda: True, host: str = ""
    ) -> ThreadingHTTPServer | None:
        """Serve /metrics and /readyz on ``host``:``port`` (or the first free port of a range) from a daemon
        thread (port 0 disables it; host "" is every interface)."""
        if not port:
            return None
        handler = _handler(self.registry, ready)
        ports = port if isinstance(port, range) else range(port, port + 1)
        server = bind_first_free(ports, lambda number: ThreadingHTTPServer((host, number), handler))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
        return server

    def timed(self, upscaler: Any) -> Any:
        """Wrap an upscaler so each call's latency lands in the inference histogram."""
        return _TimedUpscaler(upscaler, self.inference_seconds)


def _handler(registry: CollectorRegistry, ready: Callable[[], bool]) -> type[BaseHTTPRequestHandler]:
    """Request handler class answering /metrics and /readyz."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0].rstrip("/")
            if path == "/readyz":
                up = ready()
                self._send(200 if up else 503, b"ready\n" if up else b"not ready\n", "text/plain")
            elif path in ("/metrics", ""):
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            else:
                self._send(404, b"not found\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None  # probes every few seconds would flood the log

    return Handler



class _TimedUpscaler:
    """Proxy that times ``infer`` of the wrapped upscaler and forwards every other attribute."""

    def __init__(self, inner: Any, histogram: Histogram) -> None:
        self._inner = inner
        self._histogram = histogram

    def infer(self, batch: Any) -> Any:
        """Upscale one batch, observing the call's latency."""
        start = time.perf_counter()
        try:
            return self._inner.infer(batch)
        finally:
            self._histogram.observe(time.perf_counter() - start)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
