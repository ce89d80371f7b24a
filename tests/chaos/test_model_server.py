"""kill -9 of tritonserver mid-job: jobs wait, /readyz says not ready, all finish once after the restart."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from contract import storage
from devops.local import Stack
from devops.readiness import http_ok
from tests.fixtures.e2e import TERMINAL, clip, done_counts, hit_while_running, metrics_ports, upload, wait_job
from tests.fixtures.stack import FRAME_DELAY_MS, STACK_MODEL

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]

#: 200 throttled frames: the job runs for seconds, so Triton dies mid-way through it.
OUTAGE_SECONDS = 8.0
assert OUTAGE_SECONDS * 25 * FRAME_DELAY_MS / 1000 >= 5


def _until(what: str, condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _readyz(url: str) -> int:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.TransportError:
        return 0


def _triton_ready(stack: Stack) -> bool:
    base = stack.triton_http_url
    return http_ok(f"{base}/v2/health/ready") and http_ok(f"{base}/v2/models/{STACK_MODEL}/ready")


def _adapters_ready(stack: Stack) -> list[int]:
    return [_readyz(f"http://127.0.0.1:{port}/readyz") for port in metrics_ports(stack)]


def test_model_server_killed_mid_job_jobs_wait_and_finish_once_after_restart(
    stack: Stack, api: httpx.Client, e2e_clips: Path
) -> None:
    triton = stack.triton
    assert triton is not None, "the chaos stack runs Triton"
    # Small frames: the throttle, not the model, makes the job last (the restart is seconds; two jobs of 200
    # frames at 176x144 x4 took 190 s of a loaded CPU after it).
    source = clip(e2e_clips, "outage.mp4", size="64x48", seconds=OUTAGE_SECONDS)
    before = sum(done_counts(stack))
    first = upload(api, source)
    killed = False
    try:
        hit_while_running(api, first["id"], stack.kill_triton)
        killed = True
        _until("backend /readyz to say the model is down", lambda: _readyz(f"{stack.base_url}/readyz") == 503)
        assert api.get("/readyz").json()["model"] != "ok"
        # The running job is not failed: it waits for the model server, without using an attempt.
        waiting = wait_job(api, first["id"], lambda j: j["retry"] is not None or j["status"] in TERMINAL, 60)
        assert waiting["status"] == "queued" and waiting["retry"]["infra"], waiting
        _until("both adapters to stop taking tasks", lambda: _adapters_ready(stack) == [503, 503])
        second = upload(api, source)
        # Through more than one retry delay, neither job ends (no attempts burn while the server is down).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for job_id in (first["id"], second["id"]):
                status = api.get(f"/api/jobs/{job_id}").json()["status"]
                assert status == "queued", f"job {job_id} is {status} during the outage"
            time.sleep(0.5)
    finally:
        if killed or not triton.alive():
            stack.restart_triton()  # waits until Triton serves the stack's models again
            assert _triton_ready(stack)
    for job_id in (first["id"], second["id"]):
        done = wait_job(api, job_id, timeout=300)
        assert done["status"] == "done", done
        folder = storage.resolve(stack.storage_root, storage.job_dir(job_id))
        assert not [p.name for p in folder.iterdir() if p.name.startswith(".")], "partial files left"
    assert sum(done_counts(stack)) - before == 2, "each job was finished exactly once"
    _until("backend /readyz to be ready again", lambda: _readyz(f"{stack.base_url}/readyz") == 200)
    _until("both adapters to take tasks again", lambda: _adapters_ready(stack) == [200, 200])
