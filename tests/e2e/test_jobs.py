"""Issue 3 acceptance: real RabbitMQ, real tritonserver, two real adapter processes and the real backend.

The crash tests (adapter, broker connections, backend) live in the chaos suite, tests/chaos/test_crashes.py;
20 uploads at once, with faults, in tests/chaos/test_mixed.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from adapter.worker.queue import JOB_ID_HEADER, REASON_HEADER
from contract import topology
from devops.local import Stack
from tests.fixtures.e2e import clip, dead_letters, poison_clip, upload, wait_job
from tests.fixtures.media import ffprobe

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]


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
