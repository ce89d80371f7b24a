"""Crashes of one part of the stack mid-job: kill -9 of an adapter or the backend, dropped broker connections.

Each job still ends done exactly once, with one whole result (moved here from tests/e2e, issue 20).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from devops.local import Stack
from tests.fixtures.e2e import (
    CRASH_FRAMES,
    adapter_metric,
    assert_single_result,
    backend_finishes,
    busy_adapter,
    clip,
    close_connections,
    crash_clip,
    done_counts,
    hit_while_running,
    log_offsets,
    long_clip,
    metrics_ports,
    parts,
    running,
    upload,
    wait_job,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]


def test_adapter_killed_mid_job_completes_exactly_once(
    stack: Stack, api: httpx.Client, e2e_clips: Path
) -> None:
    job = upload(api, crash_clip(e2e_clips))
    victim = busy_adapter(stack)
    survivor = 1 - victim
    before = done_counts(stack)[survivor]
    try:
        hit_while_running(api, job["id"], lambda: stack.kill_adapter(victim))
        done = wait_job(api, job["id"], timeout=180)
        assert done["status"] == "done", done["error"]
        assert done["output"]["frames"] == CRASH_FRAMES
        assert done_counts(stack)[survivor] - before == 1, "the survivor finished it once"
        assert_single_result(stack, job["id"])
    finally:
        stack.restart_adapter(victim)


def _all_busy(stack: Stack) -> bool:
    return all(adapter_metric(port, "vsr_adapter_busy") == 1 for port in metrics_ports(stack))


def test_connections_closed_while_both_adapters_busy_each_job_done_once(
    stack: Stack, api: httpx.Client, e2e_clips: Path
) -> None:
    offsets, before = log_offsets(stack), sum(done_counts(stack))
    jobs = [upload(api, crash_clip(e2e_clips)) for _ in range(2)]

    def both_running(job: dict[str, Any]) -> bool:
        other = api.get(f"/api/jobs/{jobs[1]['id']}").json()
        return running(other) and _all_busy(stack)

    hit_while_running(api, jobs[0]["id"], lambda: close_connections(stack), ready=both_running)
    for job in jobs:
        done = wait_job(api, job["id"], timeout=180)
        assert done["status"] == "done", done["error"]
        assert done["output"]["frames"] == CRASH_FRAMES
        assert_single_result(stack, job["id"])
        finished = parts(stack, job["id"], offsets, "done")
        assert {part: len(who) for part, who in finished.items()} == {"job": 1}, f"done once: {finished}"
        assert backend_finishes(stack, job["id"]) == 1
    assert sum(done_counts(stack)) - before == 2, "no adapter finished a job twice"
    assert all(adapter.alive() for adapter in stack.adapters)
    # Both sides reconnected: a new upload is published by the backend and run by an adapter.
    after = upload(api, clip(e2e_clips, "small.mp4"))
    assert wait_job(api, after["id"])["status"] == "done"


def test_backend_restarted_mid_job_applies_done_after_restart(
    stack: Stack, api: httpx.Client, e2e_clips: Path
) -> None:
    job = upload(api, crash_clip(e2e_clips))
    before = sum(done_counts(stack))
    try:
        # No look after the kill (the API is down): the done counted below, while it is down, proves it.
        hit_while_running(api, job["id"], stack.kill_backend, check_after=False)
        deadline = time.monotonic() + 120
        while sum(done_counts(stack)) == before:  # the done event waits in the durable events queue
            assert time.monotonic() < deadline, "the adapter did not finish while the backend was down"
            time.sleep(0.2)
    finally:
        stack.restart_backend()
    done = wait_job(api, job["id"], timeout=60)
    assert done["status"] == "done", done["error"]
    assert done["filename"] == "crash.mp4" and done["output"]["frames"] == CRASH_FRAMES
    assert backend_finishes(stack, job["id"]) == 1


def test_adapter_killed_mid_segment_redoes_only_that_segment(
    stack: Stack, api: httpx.Client, e2e_clips: Path
) -> None:
    offsets = log_offsets(stack)
    job = upload(api, long_clip(e2e_clips, 20))
    assert job["segments"] == 2
    victim = 0

    def unfinished_by_victim() -> list[str]:
        done = parts(stack, job["id"], offsets, "done")
        started = parts(stack, job["id"], offsets, "start")
        return [part for part, who in started.items() if who == [victim] and part not in done]

    # The victim is killed while it works on a segment it has not finished (and the job is mid-way).
    killed: list[str] = []

    def kill() -> None:
        killed.extend(unfinished_by_victim())
        stack.kill_adapter(victim)

    try:
        hit_while_running(api, job["id"], kill, ready=lambda _: bool(unfinished_by_victim()))
        assert len(killed) == 1, killed
        done = wait_job(api, job["id"], timeout=240)
        assert done["status"] == "done", done["error"]
        assert done["output"]["frames"] == 500
        starts = parts(stack, job["id"], offsets, "start")
        assert starts[killed[0]] == [victim, 1 - victim], f"only the killed segment is redone: {starts}"
        others = {part: who for part, who in starts.items() if part != killed[0]}
        assert all(len(who) == 1 for who in others.values()), f"every other part ran once: {starts}"
        finished = parts(stack, job["id"], offsets, "done")
        assert set(finished) == set(starts) and all(len(who) == 1 for who in finished.values()), finished
        final = api.get(f"/api/jobs/{job['id']}").json()
        assert final["status"] == "done" and final["segments_done"] == 2
        assert backend_finishes(stack, job["id"]) == 1, "the job finished exactly once"
    finally:
        stack.restart_adapter(victim)
