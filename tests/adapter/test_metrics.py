"""The adapter's HTTP port: /metrics for Prometheus and /readyz for probes (ready only while consuming)."""

from __future__ import annotations

import threading

import httpx

from adapter.worker.metrics import Metrics
from devops.readiness import free_port


def test_readyz_follows_the_worker_and_metrics_stay_served() -> None:
    ready = threading.Event()
    metrics = Metrics()
    metrics.busy.set(1)
    port = free_port()
    server = metrics.serve(port, ready.is_set)
    assert server is not None
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(trust_env=False, timeout=5) as http:
            assert http.get(f"{base}/readyz").status_code == 503
            ready.set()
            assert http.get(f"{base}/readyz").status_code == 200
            scraped = http.get(f"{base}/metrics")
            assert scraped.status_code == 200 and "vsr_adapter_busy 1.0" in scraped.text
            assert "vsr_adapter_model_ready" in scraped.text
            assert http.get(f"{base}/nope").status_code == 404
    finally:
        server.shutdown()
        server.server_close()


def test_port_zero_serves_nothing() -> None:
    assert Metrics().serve(0) is None
