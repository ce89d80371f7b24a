"""Issue 13 acceptance, fairness, on the real stack (RabbitMQ, tritonserver, adapters, backend).

One owner's backlog does not starve another: owners take turns per task. The order is read from what
really happened: the adapters' "start" log lines (which task an adapter took, when) and the job records
in the backend's database (``published_at`` of jobs and tasks: the turns the outbox gave).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from backend.jobs.db import Job, make_engine, make_sessions
from backend.jobs.store import JobStore
from devops.broker import tasks_consumers
from devops.local import Stack
from tests.fixtures.e2e import SEGMENT_CLIP_FPS, clip, long_clip, upload, wait_job

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]


@contextlib.contextmanager
def owner(stack: Stack) -> Iterator[httpx.Client]:
    """A client that is an owner of its own (its identity cookie set before any upload)."""
    with httpx.Client(base_url=stack.base_url, timeout=60) as client:
        assert client.get("/api/jobs").status_code == 200 and client.cookies, "no owner cookie was set"
        yield client


@contextlib.contextmanager
def records(stack: Stack) -> Iterator[JobStore]:
    """The backend's job records, read straight from its database."""
    assert stack.config.database_url is not None
    engine = make_engine(stack.config.database_url)
    try:
        yield JobStore(make_sessions(engine))
    finally:
        engine.dispose()


def starts(stack: Stack, since: datetime) -> list[tuple[datetime, str, str, int]]:
    """(time, job id, part, adapter) of every task an adapter started after ``since``, in time order."""
    found = []
    for index, adapter in enumerate(stack.adapters):
        for line in adapter.log_path.read_text(errors="replace").splitlines():
            if not line.startswith("{"):
                continue  # a service's start header
            entry = json.loads(line)
            at = datetime.fromisoformat(entry["ts"])
            if ": start (" in entry.get("msg", "") and at > utc(since):
                part = entry["msg"].split(": start", 1)[0].removeprefix(f"job {entry['job_id']}").strip()
                found.append((at, entry["job_id"], part or "whole", index))
    return sorted(found)


def utc(value: datetime) -> datetime:
    """A stored time as UTC-aware (SQLite hands back naive ones)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def wait_consumers(stack: Stack, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while tasks_consumers(stack.amqp_url) != count:
        assert time.monotonic() < deadline, f"vsr.tasks never had {count} consumers"
        time.sleep(0.2)


@contextlib.contextmanager
def one_adapter(stack: Stack) -> Iterator[None]:
    """Only adapter 0 consumes; adapter 1 is restarted afterwards (the stack is shared)."""
    stack.adapters[1].stop(stack.config.stop_grace_s)
    try:
        wait_consumers(stack, 1)
        yield
    finally:
        stack.restart_adapter(1)


def turns_after(store: JobStore, ids: list[str], since: datetime) -> list[tuple[datetime, str, str]]:
    """(publish time, owner, job id) of every task of ``ids`` published after ``since``; no assemblies."""
    found = []
    for job_id in ids:
        job = created(store, job_id)
        segments = [t.published_at for t in job.tasks if t.kind == "segment"]
        times = segments if job.tasks else [job.published_at]
        found += [(utc(at), job.owner, job.id) for at in times if at is not None and utc(at) > utc(since)]
    return sorted(found)


def created(store: JobStore, job_id: str) -> Job:
    job = store.get(job_id)
    assert job is not None
    return job


def test_one_adapter_b_behind_twelve_of_a_is_among_the_first_two_started(
    stack: Stack, e2e_clips: Path
) -> None:
    source = clip(e2e_clips, "tiny.mp4", seconds=1.0, audio=False)
    with one_adapter(stack), owner(stack) as a, owner(stack) as b:
        a_ids = [upload(a, source)["id"] for _ in range(12)]
        # B comes once the adapter is busy with A's backlog.
        wait_job(a, a_ids[0], lambda job: job["status"] != "queued", timeout=120)
        b_job = upload(b, source)
        assert b_job["queue"] is not None and b_job["queue"]["position"] <= 2, b_job["queue"]
        for job_id in a_ids:
            assert wait_job(a, job_id, timeout=300)["status"] == "done"
        assert wait_job(b, b_job["id"], timeout=300)["status"] == "done"
    with records(stack) as store:
        uploaded = created(store, b_job["id"]).created_at  # B's row, committed at the end of its upload
        turns = [job_id for _, _, job_id in turns_after(store, [*a_ids, b_job["id"]], uploaded)]
    started = [job_id for _, job_id, _, _ in starts(stack, uploaded)]
    print(f"\nstarted after B's upload: {''.join('B' if i == b_job['id'] else 'A' for i in started)}")
    assert set(started) <= {*a_ids, b_job["id"]} and len(started) == len(set(started)), started
    # Turns are per task: at most the one of A's already waiting in RabbitMQ goes before B.
    assert b_job["id"] in started[:2], f"B started as task {started.index(b_job['id']) + 1}: {started}"
    assert b_job["id"] in turns[:2], f"B's turn came {turns.index(b_job['id']) + 1}th: {turns}"


def test_two_adapters_interleave_two_owners_segments(stack: Stack, e2e_clips: Path) -> None:
    # 6 segments each (more than 2 running + 2 ready), at 5 fps: the turns, not the frames, are under test.
    source = long_clip(e2e_clips, 60, SEGMENT_CLIP_FPS)
    wait_consumers(stack, 2)
    with owner(stack) as a, owner(stack) as b:
        a_job = upload(a, source)
        b_job = upload(b, source)
        assert a_job["segments"] == b_job["segments"] == 6
        done = [wait_job(a, a_job["id"], timeout=600), wait_job(b, b_job["id"], timeout=600)]
    assert [job["status"] for job in done] == ["done", "done"], [job["error"] for job in done]
    assert [job["output"]["frames"] for job in done] == [60 * SEGMENT_CLIP_FPS] * 2
    with records(stack) as store:
        uploaded = created(store, b_job["id"]).created_at
        turns = turns_after(store, [a_job["id"], b_job["id"]], uploaded)
        owner_a = created(store, a_job["id"]).owner
        began = created(store, a_job["id"]).created_at
    seq = ["A" if who == owner_a else "B" for _, who, _ in turns]
    print(f"\nsegment turns after B's upload: {''.join(seq)}")
    assert "A" in seq and "B" in seq, f"A still had segments waiting when B's upload came: {seq}"
    if seq[:2] == ["A", "A"]:
        seq = seq[1:]  # one of A's may have been in an outbox pass that began before B's row was committed
    for i in range(len(seq) - 1):
        other = "B" if seq[i] == "A" else "A"
        assert not (seq[i] == seq[i + 1] and other in seq[i + 1 :]), f"turns do not alternate: {seq}"
    ran = starts(stack, began)
    for job in (a_job, b_job):  # segments spread over the free adapters: each job's ran on both
        on = {index for _, job_id, part, index in ran if job_id == job["id"] and part.startswith("segment")}
        assert on == {0, 1}, f"job {job['id']}'s segments ran on adapters {on}"
    after = [job_id for _, job_id, _, _ in starts(stack, uploaded)]
    # Ahead of B's first segment: only what RabbitMQ already held (about one per adapter).
    assert b_job["id"] in after[:3], f"B's first segment started {after.index(b_job['id']) + 1}th: {after}"
