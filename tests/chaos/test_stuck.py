"""A stuck inference in a real adapter (issue 20): the job fails as transient within the deadline, is retried,
and completes once the model answers again.

The stuck model is the throttle's test-only switch (adapter/inference/throttle.py ``block_flag``): while the
file
exists, every model call of the stack's adapters blocks. The unit proofs, and the CLI's non-zero exit with a
one-line reason, are in tests/adapter/test_deadlines.py (``test_the_cli_exits_non_zero_with_one_line``,
``test_a_stuck_model_fails_the_run_as_transient_within_the_deadline``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapter.inference.throttle import block_flag
from adapter.video.pipeline import ANSWER_MARGIN
from contract.catalogue import reason
from devops.local import Stack
from tests.fixtures.e2e import (
    CRASH_FRAMES,
    TERMINAL,
    assert_single_result,
    backend_finishes,
    crash_clip,
    hit_while_running,
    log_offsets,
    parts,
    upload,
    wait_job,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]

#: The adapters' INFERENCE_TIMEOUT_S in this module (the stack's default, 60 s, would make the test slow).
#: Generous for the crash clip's batches on a loaded CPU; a spurious timeout would only add a retry.
INFERENCE_TIMEOUT_S = 5.0
#: Slack on top of the answer deadline for the log to show it (polls, a loaded host): not a speed bound.
SLACK_S = 60.0


@pytest.fixture(scope="module")
def short_deadline(stack: Stack) -> Iterator[float]:
    """Both adapters restarted with INFERENCE_TIMEOUT_S; restarted with their own settings afterwards."""
    saved = [adapter.env for adapter in stack.adapters]
    try:
        for index, adapter in enumerate(stack.adapters):
            adapter.env = {**adapter.env, "INFERENCE_TIMEOUT_S": str(INFERENCE_TIMEOUT_S)}
            stack.restart_adapter(index)
        yield INFERENCE_TIMEOUT_S
    finally:
        for index, (adapter, env) in enumerate(zip(stack.adapters, saved, strict=True)):
            adapter.env = env
            stack.restart_adapter(index)


@pytest.fixture
def stuck_switch(stack: Stack) -> Iterator[Path]:
    """The switch's path, never left on."""
    flag = block_flag(stack.storage_root)
    assert not flag.exists()
    yield flag
    with contextlib.suppress(FileNotFoundError):
        flag.unlink()


def _stuck_outcomes(stack: Stack, job_id: str, offsets: list[int]) -> list[str]:
    """Lines ``job <id>: <outcome> (<stuck reason>)`` the adapters logged: how each stuck try ended."""
    text = str(reason("job.stuck"))
    found = []
    for index, adapter in enumerate(stack.adapters):
        log = adapter.log_path.read_bytes()[offsets[index] :].decode(errors="replace")
        found += [line for line in log.splitlines() if f"job {job_id}: " in line and text in line]
    return found


def test_a_stuck_model_fails_the_try_as_transient_and_the_job_completes_when_it_answers(
    stack: Stack, api: httpx.Client, e2e_clips: Path, short_deadline: float, stuck_switch: Path
) -> None:
    offsets = log_offsets(stack)
    job = upload(api, crash_clip(e2e_clips))
    hit_while_running(api, job["id"], stuck_switch.touch)
    stuck_at = time.monotonic()
    deadline = stuck_at + short_deadline * (1 + ANSWER_MARGIN) + SLACK_S
    while not _stuck_outcomes(stack, job["id"], offsets):
        assert time.monotonic() < deadline, "the stuck try did not end within its deadline"
        time.sleep(0.2)
    seen = api.get(f"/api/jobs/{job['id']}").json()
    assert seen["status"] not in TERMINAL, f"a stuck try ends the job: {seen}"
    assert all(": failed (" not in line for line in _stuck_outcomes(stack, job["id"], offsets))
    stuck_switch.unlink()  # the model answers again: the retry (however it is delayed) runs to the end

    done = wait_job(api, job["id"], timeout=300)
    assert done["status"] == "done", done["error"]
    assert done["output"]["frames"] == CRASH_FRAMES
    assert_single_result(stack, job["id"])
    starts = parts(stack, job["id"], offsets, "start")
    assert len(starts["job"]) >= 2, f"retried after the stuck try: {starts}"
    assert {part: len(who) for part, who in parts(stack, job["id"], offsets, "done").items()} == {"job": 1}
    assert backend_finishes(stack, job["id"]) == 1
    assert all(adapter.alive() for adapter in stack.adapters), "the adapters recovered"
