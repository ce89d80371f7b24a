"""Overload is not a fault (issue 26): a slow but healthy model server finishes the job without an attempt.

The model server is made slow by its test-only switch (model_convertation/cpu_model.py, the stack's
``TEST_MODEL_SLOW_FILE``): every request sleeps a set time per frame first, while Triton keeps answering its
readiness checks. The adapters run with a short floor under their call deadlines, so the first call of a
fresh adapter (deadline from the prior speed) times out: that is overload, retried without using an
attempt, and the deadline learnt from it lets the retry finish. The unit proofs of the rules are in
tests/adapter/test_overload.py and tests/backend/test_runs.py.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devops.local import Stack
from tests.fixtures.e2e import TERMINAL, assert_single_result, log_offsets, parts, upload, wait_job
from tests.fixtures.media import make_clip
from tests.fixtures.stack import SLOW_FILE_NAME

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]

#: The adapters' floor under every call deadline here (the stack's 60 s would make the test slow).
FLOOR_S = 3.0
#: Seconds each frame takes in the slowed model: a batch of the clip's 4 frames (8 s) is well past the
#: first call's deadline (about 6.4 s from the prior speed, queue grace included), far below a learnt one.
SLOW_S_PER_FRAME = 2.0
#: Longest the job may take: a few overload waits (each a deadline plus a retry delay) and one slow run.
DONE_WITHIN_S = 240.0


@pytest.fixture(scope="module")
def short_floor(stack: Stack) -> Iterator[float]:
    """Both adapters restarted with INFERENCE_TIMEOUT_S = FLOOR_S; their own settings back afterwards."""
    saved = [adapter.env for adapter in stack.adapters]
    try:
        for index, adapter in enumerate(stack.adapters):
            adapter.env = {**adapter.env, "INFERENCE_TIMEOUT_S": str(FLOOR_S)}
            stack.restart_adapter(index)
        yield FLOOR_S
    finally:
        for index, (adapter, env) in enumerate(zip(stack.adapters, saved, strict=True)):
            adapter.env = env
            stack.restart_adapter(index)


@pytest.fixture
def slow_model(stack: Stack) -> Iterator[Path]:
    """The model server's slow switch, on (SLOW_S_PER_FRAME) for one test and never left on."""
    switch = stack.config.run_dir / SLOW_FILE_NAME
    assert not switch.exists()
    switch.write_text(str(SLOW_S_PER_FRAME))
    yield switch
    with contextlib.suppress(FileNotFoundError):
        switch.unlink()


def _consistent(job: dict[str, Any]) -> bool:
    """The bar and the frame count tell the same story (one run's numbers, never two runs' mixed)."""
    total = job["frames_total"]
    if not total or job["status"] != "running":
        return True
    return abs(job["progress"] - min(job["frames_done"] / total, 0.99)) < 0.011


def test_a_slow_but_healthy_model_server_finishes_the_first_job_without_using_an_attempt(
    stack: Stack, api: httpx.Client, tmp_path: Path, short_floor: float, slow_model: Path
) -> None:
    clip = make_clip(tmp_path / "tiny.mp4", size="96x64", rate="8", seconds=0.5, audio_tracks=0)
    offsets = log_offsets(stack)
    assert stack.triton is not None
    triton_from = stack.triton.log_path.stat().st_size
    job = upload(api, clip)
    seen = [wait_job(api, job["id"], ("running", *TERMINAL), timeout=60)]
    assert seen[0]["status"] == "running", f"the job never ran: {seen[0]}"
    assert slow_model.exists(), "the model server is slow while the job runs"
    deadline = time.monotonic() + DONE_WITHIN_S
    while seen[-1]["status"] not in TERMINAL:
        assert time.monotonic() < deadline, f"not done in {DONE_WITHIN_S:.0f} s; last state {seen[-1]}"
        time.sleep(0.2)
        response = api.get(f"/api/jobs/{job['id']}")
        assert response.status_code == 200, response.text
        seen.append(response.json())
    done = seen[-1]
    assert done["status"] == "done", done["error"]
    assert done["attempt"] == 1, f"the slow server used an attempt: {done}"
    # The first call timed out (overload) and the job was retried without an attempt, visibly.
    overloads = [s for s in seen if s["retried"] is not None and s["retried"]["overloaded"]]
    assert overloads, f"no overload retry was shown: {seen}"
    assert all(s["attempt"] == 1 and s["retried"]["infra"] for s in overloads)
    assert all(s["retried"]["code"] == "job.model_overloaded" for s in overloads)
    assert done["run"] >= 2, "the retry was a new run"
    # Never a run's bar with another run's frames; frames never go back within a run.
    assert all(_consistent(s) for s in seen), [(s["run"], s["progress"], s["frames_done"]) for s in seen]
    for before, after in itertools.pairwise(seen):
        if before["run"] == after["run"] and after["status"] == "running":
            assert after["frames_done"] >= before["frames_done"], (before, after)
    assert {part: len(who) for part, who in parts(stack, job["id"], offsets, "done").items()} == {"job": 1}
    assert parts(stack, job["id"], offsets, "overloaded"), "the adapter logged the overload as such"
    assert_single_result(stack, job["id"])
    # The call given up on was dropped by the server (cpu_model.py), not run ahead of its retry.
    triton_log = stack.triton.log_path.read_bytes()[triton_from:].decode(errors="replace")
    assert "skipped a request its client gave up on" in triton_log
