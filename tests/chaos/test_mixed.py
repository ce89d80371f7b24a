"""20 uploads at once on the 2-adapter stack with one fault of each kind during the run (issue 20): a cancel
then delete, kill -9 of an adapter, every broker connection closed, kill -9 of the backend, a full disk,
kill -9 of tritonserver. The run's storage is a tmpfs of its own (test_storage.py's ``small_storage``), so
the disk can really fill up without touching the machine's.

Every job ends done exactly once or failed with a catalogue reason, none is lost, and nothing is left in
storage that belongs to no job. A new kind of fault is one more line in ``FAULTS``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy

from backend.jobs.db import Job
from contract import storage
from contract.catalogue import Reason
from devops.local import Stack
from tests.fixtures.disk import DISK_FULL, fill, free, small_storage
from tests.fixtures.e2e import (
    TERMINAL,
    adapter_metric,
    backend_finishes,
    cancel_then_delete,
    clip,
    close_connections,
    log_offsets,
    metrics_ports,
    parts,
    running,
    upload,
    wait_job,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]

JOBS = 20
#: 75 frames: at least 2.25 s each on the stack's throttle (over 20 s for the 20 jobs on 2 adapters), so
#: the jobs outlast the faults and each is seen running for a while, on any host.
SECONDS = 3.0


@dataclass
class Scene:
    """What a fault acts on: the stack, the API client and the job of the run seen running when it was due."""

    stack: Stack
    api: httpx.Client
    job_id: str
    #: Jobs a fault ended on purpose (a cancel, a delete): they need not end done or failed.
    ended: set[str] = field(default_factory=set)
    #: Files a fault put on the storage volume (the full disk's fillers), removed when it heals.
    fillers: list[Path] = field(default_factory=list)


def _nothing(scene: Scene) -> None:
    return None


def _always(stack: Stack) -> bool:
    return True


@dataclass(frozen=True)
class Fault:
    """One kind of fault: how it hits the running stack, how it is healed, and what it waits for first."""

    name: str
    hit: Callable[[Scene], object]
    heal: Callable[[Scene], object] = _nothing
    ready: Callable[[Stack], bool] = _always


def _busy(stack: Stack, index: int) -> bool:
    return adapter_metric(metrics_ports(stack)[index], "vsr_adapter_busy") == 1


def _disk_full(scene: Scene, timeout: float = 60) -> None:
    """The storage volume fills up while jobs write their results: some job must meet it."""
    scene.fillers = fill(scene.stack.storage_root / "jobs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any((job.get("retry") or {}).get("code") == DISK_FULL for job in _listed(scene.api).values()):
            return
        time.sleep(0.1)
    raise AssertionError("no job met the full disk (no disk-space retry was seen)")


def _cancel_then_delete(scene: Scene) -> None:
    """A user stops the running job and deletes it at once: it must stop and leave nothing behind."""
    cancel_then_delete(scene.api, scene.job_id)
    scene.ended.add(scene.job_id)


#: The faults of the run, in order, one line each; every one hits while a job of the run is running.
FAULTS = [
    Fault("cancel then delete a running job", _cancel_then_delete),
    Fault("kill -9 adapter 0", lambda s: s.stack.kill_adapter(0), lambda s: s.stack.restart_adapter(0),
          ready=lambda stack: _busy(stack, 0)),
    Fault("close every broker connection", lambda s: close_connections(s.stack)),
    Fault("kill -9 the backend", lambda s: s.stack.kill_backend(), lambda s: s.stack.restart_backend()),
    Fault("the storage volume full", _disk_full, lambda s: free(s.fillers)),
    # Last: until adapters wait out a model-server outage, its retries may use up some jobs' attempts.
    Fault("kill -9 tritonserver", lambda s: s.stack.kill_triton(), lambda s: s.stack.restart_triton()),
]


def _listed(api: httpx.Client) -> dict[str, dict[str, Any]]:
    return {job["id"]: job for job in api.get("/api/jobs").json()}


def _running_job(api: httpx.Client, ids: set[str], stack: Stack, fault: Fault, timeout: float = 120) -> str:
    """One of ``ids`` seen running mid-way in the last look, taken once the fault's condition held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not fault.ready(stack):
            time.sleep(0.1)
            continue
        jobs = [job for job in _listed(api).values() if job["id"] in ids]  # the look just before the hit
        if all(job["status"] in TERMINAL for job in jobs):
            break
        found = [job["id"] for job in jobs if running(job)]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no job of the run was running when {fault.name!r} was due")


def _inject(api: httpx.Client, stack: Stack, ids: set[str], fault: Fault, ended: set[str]) -> None:
    """Hit the stack with ``fault`` right after a job of the run is seen running, then heal it."""
    # No look after the hit: a fault may take the API down (as in hit_while_running(check_after=False)).
    scene = Scene(stack, api, _running_job(api, ids, stack, fault), ended)
    try:
        fault.hit(scene)
    finally:
        fault.heal(scene)


def _recorded(stack: Stack) -> set[str]:
    """Ids of every job the backend has a record of (every owner's: the API lists only ours)."""
    assert stack.config.database_url is not None
    engine = sqlalchemy.create_engine(stack.config.database_url)
    try:
        with engine.connect() as connection:
            return {row[0] for row in connection.execute(sqlalchemy.select(Job.id))}
    finally:
        engine.dispose()


def _folders(stack: Stack) -> set[str]:
    jobs = storage.resolve(stack.storage_root, "jobs")
    return {p.name for p in jobs.iterdir() if p.is_dir()} if jobs.is_dir() else set()


def _temporaries(stack: Stack) -> list[Path]:
    """Partial files (a run's or an upload's temporaries) left anywhere under jobs/."""
    jobs = storage.resolve(stack.storage_root, "jobs")
    return [p for p in jobs.rglob("*") if p.is_file() and (p.name.startswith(".") or ".part" in p.name)]


def test_twenty_uploads_with_a_fault_of_each_kind_all_end_once(
    stack: Stack, api: httpx.Client, e2e_clips: Path
) -> None:
    # The run's own storage volume (we are root): the full-disk fault fills it, not the machine's disk.
    with small_storage(stack, "64m", cancels_inodes=100_000):
        _run(stack, api, e2e_clips)


def _run(stack: Stack, api: httpx.Client, e2e_clips: Path) -> None:
    """Upload, hit the stack with every fault while jobs run, then check every job's ending and storage."""
    source = clip(e2e_clips, "mixed.mp4", seconds=SECONDS, audio=False)
    offsets = log_offsets(stack)
    # Earlier tests' orphans, if any, are theirs (and the janitor's) to answer for: this run's count here.
    stray_before, temporaries_before = _folders(stack) - _recorded(stack), set(_temporaries(stack))
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        uploaded = list(pool.map(lambda _: upload(api, source), range(JOBS)))
    ids = {job["id"] for job in uploaded}
    assert len(ids) == JOBS
    ended: set[str] = set()
    for fault in FAULTS:
        _inject(api, stack, ids, fault, ended)

    finished = [wait_job(api, job_id, timeout=300) for job_id in sorted(ids - ended)]
    assert ids - ended <= set(_listed(api)), "every job is still listed"
    for job in finished:
        if job["status"] == "failed":  # allowed, with a human reason from the catalogue
            assert job["error_code"] and not job["error_code"].startswith("job.internal"), job
            assert job["error"] == Reason(code=job["error_code"], params=job["error_params"]).text("en")
            continue
        assert job["status"] == "done", job
        done = parts(stack, job["id"], offsets, "done")
        assert {part: len(who) for part, who in done.items()} == {"job": 1}, f"{job['id']} done once: {done}"
        assert backend_finishes(stack, job["id"]) == 1
        assert api.get(job["result_url"], headers={"Range": "bytes=0-0"}).status_code == 206
    shares = [0] * len(stack.adapters)
    for job_id in ids:
        for index in parts(stack, job_id, offsets, "done").get("job", []):
            shares[index] += 1
    assert all(share > 0 for share in shares), f"both adapters finished jobs: {shares}"
    assert not ended & _folders(stack), "a deleted job's folder never comes back"
    orphans = _folders(stack) - _recorded(stack) - stray_before
    assert not orphans, f"job folders of no job: {orphans}"
    left = set(_temporaries(stack)) - temporaries_before
    assert not left, f"temporaries left after every job ended: {left}"
