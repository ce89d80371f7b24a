"""The one janitor: a backend thread that, every ``JANITOR_INTERVAL_S``, runs the sweeps (docs/operations.md).

When several backends share a database only the holder of the ``janitor`` lease sweeps; it renews the
lease every pass, and when it dies the lease expires (``JANITOR_LEASE_S``) and another backend takes over.
Other features add their own sweeps through ``extra`` (e.g. the cancel markers of deleted jobs).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from backend.intake import resumable
from backend.intake.ledger import Ledger
from backend.janitor import retention, stalls, sweeps
from backend.janitor.records import JobRecords
from backend.janitor.sweeps import Reclaimed, Sweep
from backend.jobs import cancels
from backend.jobs.store import JobStore
from backend.metrics import Metrics
from backend.settings import Settings

log = logging.getLogger(__name__)

LEASE = "janitor"


class Lease(Protocol):
    """Take/renew and give back a named lease (``backend.janitor.leases.Leases``)."""

    def take(self, name: str, holder: str, seconds: float, now: datetime | None = None) -> bool: ...
    def release(self, name: str, holder: str) -> None: ...


def holder_name() -> str:
    """This process's name in the lease table: host, pid and a random part (pids repeat in containers)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Janitor(threading.Thread):
    """Runs ``sweeps`` every ``interval_s`` while this backend holds the lease."""

    def __init__(
        self,
        lease: Lease,
        sweeps: Sequence[Sweep],
        metrics: Metrics,
        *,
        interval_s: float,
        lease_s: float,
        holder: str | None = None,
    ) -> None:
        super().__init__(name="vsr-janitor", daemon=True)
        self._lease, self._sweeps, self._metrics = lease, list(sweeps), metrics
        self._interval_s, self._lease_s = interval_s, lease_s
        self.holder = holder or holder_name()
        self._stop_event = threading.Event()
        self.leader = False
        self.passes = 0

    def stop(self) -> None:
        """Finish the loop; the lease is given back."""
        self._stop_event.set()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.sweep_once()
            except Exception:
                log.exception("janitor pass failed")  # e.g. the database is briefly down
                self._lead(False)
            self._stop_event.wait(self._interval_s)
        if self.leader:
            try:
                self._lease.release(LEASE, self.holder)
            except Exception:
                log.warning("janitor could not give its lease back; it expires on its own")

    def _lead(self, leader: bool) -> None:
        if leader != self.leader:
            log.info("janitor %s", "leads" if leader else "follows", extra={"holder": self.holder})
        self.leader = leader
        self._metrics.janitor_leader.set(1 if leader else 0)

    def sweep_once(self) -> bool:
        """One pass: take or renew the lease, then run every sweep; False when another backend leads."""
        self._lead(self._lease.take(LEASE, self.holder, self._lease_s))
        if not self.leader:
            return False
        for sweep in self._sweeps:
            if self._stop_event.is_set():
                break
            self._run(sweep)
        self.passes += 1
        return True

    def _run(self, sweep: Sweep) -> None:
        try:
            removed = sweep.run()
        except Exception:
            log.exception("janitor sweep %s failed", sweep.name)
            self._metrics.sweep_errors.labels(sweep.name).inc()
            return
        self._metrics.reclaimed_bytes.labels(sweep.name).inc(removed.bytes)
        self._metrics.reclaimed_files.labels(sweep.name).inc(removed.files)


def standard_sweeps(
    settings: Settings,
    store: JobStore,
    records: JobRecords,
    metrics: Metrics,
    ledger: Ledger,
) -> list[Sweep]:
    """Every sweep in order: uploads, resumable, temporaries, orphans, retention, stuck, markers, ledger."""
    root: Path = settings.STORAGE_ROOT

    def kept() -> set[str]:  # rowless folders the janitor keeps: deleted jobs still being cancelled
        return set(store.stopped_ids())

    def restore_markers() -> Reclaimed:
        cancels.sync_markers(store, root)  # writes what a full disk refused; reclaims nothing
        return Reclaimed()

    def forget() -> Reclaimed:
        ledger.sweep()  # expired reservations and marks older than the hour: rows, not files
        return Reclaimed()

    def stalled(job_id: str) -> None:
        metrics.failures.inc()
        cancels.write_marker(root, job_id)  # a hung attempt that wakes up stops instead of finishing

    def released(upload_id: str) -> None:  # the expired upload's promise goes with its bytes
        ledger.release(resumable.rid(upload_id))

    def backlog() -> int:
        # The outbox's last reading of the task queue; -1 when unknown (no broker yet).
        depth = metrics.registry.get_sample_value("vsr_tasks_queue_depth")
        return -1 if depth is None else int(depth)

    return [
        Sweep("uploads", lambda: sweeps.partial_uploads(root, records, settings.UPLOAD_GRACE_S)),
        Sweep("resumable", lambda: resumable.expired(root, settings.RESUMABLE_EXPIRY_S, on_removed=released)),
        Sweep(
            "temporaries",
            lambda: sweeps.dead_temporaries(root, records, settings.TEMP_GRACE_S, settings.TEMP_MAX_AGE_S),
        ),
        Sweep("orphans", lambda: sweeps.orphan_folders(root, records, settings.ORPHAN_GRACE_S, kept)),
        Sweep("retention", lambda: retention.expired_jobs(root, records, store, settings.RETENTION_S)),
        Sweep(
            "stuck",
            lambda: stalls.stuck_jobs(
                records,
                store,
                settings.STUCK_AFTER_S,
                backlog,
                metrics.jobs_stuck.set,
                failed=stalled,
            ),
        ),
        Sweep("cancel_markers", restore_markers),
        Sweep(
            "expired_markers",
            lambda: Reclaimed(files=cancels.expire_markers(store, root, cancels.TOMBSTONE_TTL_S)),
        ),
        Sweep("ledger", forget),
    ]


__all__ = ["LEASE", "Janitor", "Reclaimed", "Sweep", "holder_name", "standard_sweeps"]
