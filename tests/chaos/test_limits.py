"""Limits on what the stream really holds, through the real stack (issue 20).

A file whose header lies about its length is refused at upload by counting its packets; a stream whose
frames grow past the size limit mid-way fails once, permanently, with the catalogue's reason. The unit
proofs are tests/backend/test_stream_limits.py and tests/adapter/test_stream_limits.py.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from contract import limits, storage
from contract.catalogue import Reason, reason
from devops.local import Stack
from tests.fixtures.e2e import log_offsets, parts, upload, wait_job
from tests.fixtures.forged import forge_duration, long_mkv, size_jump

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]


def _limit(stack: Stack, name: str, default: float) -> float:
    """A limit of the stack's services: its setting in the stack's environment, else the contract default."""
    return float(stack.config.extra_env.get(name, default))


def _job_folders(stack: Stack) -> set[str]:
    jobs = storage.resolve(stack.storage_root, "jobs")
    return {p.name for p in jobs.iterdir()} if jobs.is_dir() else set()


def test_a_header_forged_long_file_is_refused_at_upload_with_its_code(
    stack: Stack, api: httpx.Client, e2e_clips: Path
) -> None:
    limit_s = _limit(stack, "MAX_DURATION_S", limits.MAX_DURATION_S)
    source = e2e_clips / "forged-long.mkv"
    if not source.exists():  # tiny frames, one a second: past the limit in a ~1 MB file
        forge_duration(long_mkv(source, seconds=limit_s + 100, rate=1), 1.0)
    jobs_before, folders_before = api.get("/api/jobs").json(), _job_folders(stack)
    with source.open("rb") as handle:
        response = api.post("/api/jobs", files={"file": (source.name, handle, "video/x-matroska")})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "media.too_long_in_stream", body
    assert body["params"]["limit_s"] == limit_s
    assert body["detail"] == Reason(code=body["code"], params=body["params"]).text("en")
    assert api.get("/api/jobs").json() == jobs_before, "no job was made"
    assert _job_folders(stack) == folders_before, "nothing of the upload is left in storage"


def test_a_frame_size_jump_past_the_limit_fails_once_with_a_human_reason(
    stack: Stack, api: httpx.Client, e2e_clips: Path
) -> None:
    max_w = int(_limit(stack, "MAX_WIDTH", limits.MAX_WIDTH))
    max_h = int(_limit(stack, "MAX_HEIGHT", limits.MAX_HEIGHT))
    wide = max_w + 160
    source = e2e_clips / "size-jump.ts"
    if not source.exists():  # 1 s at 64x48 (what the header says), then 1 s of frames too wide
        size_jump(source, first="64x48", then=f"{wide}x200")
    offsets = log_offsets(stack)
    job = upload(api, source)  # the header's first frame fits: accepted
    failed = wait_job(api, job["id"], timeout=180)
    assert failed["status"] == "failed", failed
    expected = reason("media.frame_too_large", width=wide, height=200, max_width=max_w, max_height=max_h)
    assert (failed["error_code"], failed["error_params"]) == (expected.code, expected.params), failed
    assert failed["error"] == expected.text("en") and "Traceback" not in failed["error"]
    # Permanent: run once and dead-lettered once (the adapter's "failed" outcome), never retried.
    assert sum(len(who) for who in parts(stack, job["id"], offsets, "start").values()) == 1
    assert sum(len(who) for who in parts(stack, job["id"], offsets, "failed").values()) == 1
    assert not parts(stack, job["id"], offsets, "retried")
