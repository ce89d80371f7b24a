"""Prometheus metrics of one adapter: jobs by outcome, throughput, inference latency, failures."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


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

    def serve(self, port: int) -> None:
        """Expose /metrics on ``port`` (0 disables it)."""
        if port:
            start_http_server(port, registry=self.registry)

    def timed(self, upscaler: Any) -> Any:
        """Wrap an upscaler so each call's latency lands in the inference histogram."""
        return _TimedUpscaler(upscaler, self.inference_seconds)


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
