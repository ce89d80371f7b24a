"""Issue 3 acceptance: real RabbitMQ, real tritonserver, two real adapter processes and the real backend."""

from __future__ import annotations

import json
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from adapter.queue import JOB_ID_HEADER, REASON_HEADER
from contract import storage, topology
from devops.local import Stack
from tests.e2e.conftest import (
    busy_adapter,
    clip,
    dead_letters,
    done_counts,
    hit_while_running,
    poison_clip,
    upload,
    vhost_of,
    wait_job,
)
from tests.fixtures.media import ffprobe
from tests.fixtures.stack import FRAME_DELAY_MS

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]


#: 200 frames, still one segment (< 1.5 × SEGMENT_SECONDS).
CRASH_SECONDS = 8.0
CRASH_FRAMES = 200
#: The stack's throttle makes the crash clip last at least this long on any host: several progress events
#: (one a second) before it is done, so the fault lands mid-job.
assert CRASH_FRAMES * FRAME_DELAY_MS / 1000 >= 5


def crash_clip(folder: Path) -> Path:
    """A clip whose job runs long enough (throttled) for a fault to hit it mid-way."""
    return clip(folder, "crash.mp4", size="176x144", seconds=CRASH_SECONDS)


def _assert_single_result(stack: Stack, job_id: str) -> None:
    folder = storage.resolve(stack.storage_root, storage.job_dir(job_id))
    names = sorted(p.name for p in folder.iterdir())
    assert "output.mp4" in names
    assert not [n for n in names if n.startswith(".")], f"partial files left: {names}"


def test_upload_done_download(stack: Stack, api: httpx.Client, e2e_clips: Path, tmp_path: Path) -> None:
    source = clip(e2e_clips, "small.mp4")
    job = upload(api, source, scale="4")
    done = wait_job(api, job["id"])
    assert done["status"] == "done", done["error"]
    assert done["output"] == {"width": 256, "height": 192, "frames": 50}
    response = api.get(done["result_url"])
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    result = tmp_path / "result.mp4"
    result.write_bytes(response.content)
    streams = {s["codec_type"]: s for s in ffprobe(result)["streams"]}
    assert (streams["video"]["width"], streams["video"]["height"]) == (256, 192)
    assert "audio" in streams, "the source's audio is kept"
    partial = api.get(done["result_url"], headers={"Range": "bytes=0-99"})
    assert partial.status_code == 206 and len(partial.content) == 100
    assert api.get(done["preview_after_url"]).headers["content-type"] == "image/jpeg"


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
        _assert_single_result(stack, job["id"])
    finally:
        stack.restart_adapter(victim)


def test_connections_closed_mid_job_reconnect_and_complete(
    stack: Stack, api: httpx.Client, e2e_clips: Path
) -> None:
    job = upload(api, crash_clip(e2e_clips))
    vhost = vhost_of(stack.amqp_url)
    close_all = ["rabbitmqctl", "-q", "close_all_connections", "--vhost", vhost, "e2e test"]
    hit_while_running(
        api, job["id"], lambda: subprocess.run(close_all, check=True, timeout=60, capture_output=True)
    )
    done = wait_job(api, job["id"], timeout=180)
    assert done["status"] == "done", done["error"]
    _assert_single_result(stack, job["id"])
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


def test_poison_input_fails_with_reason_and_sits_in_dlq(
    stack: Stack, api: httpx.Client, e2e_clips: Path
) -> None:
    job = upload(api, poison_clip(e2e_clips))
    failed = wait_job(api, job["id"], timeout=120)
    assert failed["status"] == "failed"
    reason = failed["error"]
    assert reason and "Traceback" not in reason and len(reason) < 300
    assert any(word in reason for word in ("damaged", "decod", "corrupt")), reason
    letters = [
        (h, b)
        for h, b in dead_letters(stack.amqp_url, topology.DEAD_QUEUE)
        if h.get(JOB_ID_HEADER) == job["id"]
    ]
    assert len(letters) == 1
    headers, body = letters[0]
    assert headers[REASON_HEADER] == reason
    assert json.loads(body)["job_id"] == job["id"]


def test_twenty_uploads_at_once_all_finish_on_two_adapters(
    stack: Stack, api: httpx.Client, e2e_clips: Path
) -> None:
    source = clip(e2e_clips, "tiny.mp4", seconds=1.0, audio=False)
    before = done_counts(stack)
    with ThreadPoolExecutor(max_workers=20) as pool:
        jobs = list(pool.map(lambda _: upload(api, source), range(20)))
    assert len({job["id"] for job in jobs}) == 20
    finished = [wait_job(api, job["id"], timeout=240) for job in jobs]
    assert [job["status"] for job in finished] == ["done"] * 20, [job["error"] for job in finished]
    shares = [after - was for after, was in zip(done_counts(stack), before, strict=True)]
    assert sum(shares) == 20 and all(share > 0 for share in shares), shares
    for job in finished:
        assert api.get(job["result_url"], headers={"Range": "bytes=0-0"}).status_code == 206
