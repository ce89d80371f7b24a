"""Prometheus metrics of the backend, on a registry of its own (one per app)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class _JobsByStatus(Collector):
    """Reads job counts from the database at scrape time."""

    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily("vsr_jobs", "Jobs in the database by status", labels=["status"])
        for status, n in self._counts().items():
            family.add_metric([status], n)
        yield family


class Metrics:
    """The backend's counters and gauges."""

    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_JobsByStatus(counts))
        self.uploads = Counter(
            "vsr_uploads",
            "Upload attempts by result (accepted or the HTTP status)",
            ["result"],
            registry=self.registry,
        )
        self.upload_bytes = Counter("vsr_upload_bytes", "Bytes of accepted uploads", registry=self.registry)
        self.failures = Counter("vsr_job_failures", "Jobs that failed permanently", registry=self.registry)
        self.events = Counter(
            "vsr_events",
            "Adapter events applied, by type",
            ["type"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "vsr_tasks_queue_depth",
            "Messages ready in the vsr.tasks queue (-1 when unknown)",
            registry=self.registry,
        )
        self.queue_depth.set(-1)
        self.dead_depth = Gauge(
            "vsr_tasks_dead_depth",
            "Messages in the vsr.tasks.dead queue, which nothing consumes (-1 when unknown)",
            registry=self.registry,
        )
        self.dead_depth.set(-1)
        self.tasks_waiting = Gauge(
            "vsr_tasks_waiting",
            "Tasks waiting for an adapter: unpublished (fair queue) plus ready in vsr.tasks (-1 unknown)",
            registry=self.registry,
        )
        self.tasks_waiting.set(-1)
        self.broker_up = Gauge(
            "vsr_broker_up", "1 when the backend's broker connections are open", registry=self.registry
        )
        # ---- the janitor (backend/janitor/thread.py) ----
        self.reclaimed_bytes = Counter(
            "vsr_janitor_reclaimed_bytes",
            "Bytes the janitor removed, by sweep",
            ["sweep"],
            registry=self.registry,
        )
        self.reclaimed_files = Counter(
            "vsr_janitor_reclaimed_files",
            "Files the janitor removed, by sweep",
            ["sweep"],
            registry=self.registry,
        )
        self.sweep_errors = Counter(
            "vsr_janitor_sweep_errors",
            "Janitor sweeps that raised, by sweep",
            ["sweep"],
            registry=self.registry,
        )
        self.janitor_leader = Gauge(
            "vsr_janitor_leader", "1 while this backend holds the janitor's lease", registry=self.registry
        )
        self.jobs_stuck = Gauge(
            "vsr_jobs_stuck",
            "Published or running jobs with no progress for STUCK_AFTER_S, at the leader's last pass",
            registry=self.registry,
        )
