"""Storage faults (issue 20): a full disk during upload, during output and during cancel.

The session stack's storage is real; each test mounts small tmpfs volumes over its ``jobs/`` and
``cancels/`` folders (we are root), fills them, and unmounts them afterwards, so the earlier tests' files
come back untouched. Expected: no 500 anywhere, nothing half-made, no stuck job, the disk named.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from contract import storage
from devops.local import Stack
from tests.fixtures.disk import (
    DISK_FULL,
    DISK_FULL_TEXT,
    adapter_log_mentions,
    fill,
    free,
    small_storage,
)
from tests.fixtures.e2e import (
    TERMINAL,
    clip,
    hit_while_running,
    wait_job,
)
from tests.fixtures.e2e import upload as upload_ok

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]

def post(api: httpx.Client, path: Path) -> httpx.Response:
    with path.open("rb") as handle:
        return api.post("/api/jobs", files={"file": (path.name, handle, "video/mp4")})


def test_a_full_disk_during_upload_is_507_and_leaves_nothing(
    stack: Stack, api: httpx.Client, e2e_clips: Path
) -> None:
    source = clip(e2e_clips, "storage-big.mp4", size="640x480", seconds=3.0)
    assert source.stat().st_size > 256 * 1024, "the clip must not fit the volume"
    with small_storage(stack, "128k") as (jobs_dir, _cancels):
        response = post(api, source)
        assert response.status_code == 507, response.text
        body = response.json()
        assert body["code"] == "http.storage_full" and "Traceback" not in body["detail"]
        assert sorted(jobs_dir.iterdir()) == [], "the partial upload was left behind"
        assert api.get("/api/jobs").json() == [], "a job row was left behind"
        # A file that fits is taken (the volume, not the backend, was the problem); then removed at once.
        small = clip(e2e_clips, "storage-small.mp4")
        assert small.stat().st_size < 96 * 1024
        job = upload_ok(api, small)
        assert api.delete(f"/api/jobs/{job['id']}").status_code == 200
        assert api.delete(f"/api/jobs/{job['id']}").status_code == 204


def test_a_full_disk_during_output_retries_with_the_disk_named_and_never_sticks(
    stack: Stack, api: httpx.Client, e2e_clips: Path
) -> None:
    # Small frames: the throttle makes it last; any write fails once the volume is full, whatever its size.
    source = clip(e2e_clips, "storage-output.mp4", size="64x48", seconds=8.0, audio=False)
    before = adapter_log_mentions(stack, DISK_FULL_TEXT)
    with small_storage(stack, "8m") as (jobs_dir, _cancels):
        job = upload_ok(api, source)
        fillers: list[Path] = []
        hit_while_running(api, job["id"], lambda: fillers.extend(fill(jobs_dir)))
        # The adapter names the disk: a retry in its log, or the job failed with that reason.
        deadline = time.monotonic() + 180
        while adapter_log_mentions(stack, DISK_FULL_TEXT) == before:
            seen = api.get(f"/api/jobs/{job['id']}").json()
            if seen["status"] == "failed":
                break
            assert seen["status"] != "done", "the job finished on a full disk"
            assert time.monotonic() < deadline, f"no disk-space failure was reported: {seen}"
            time.sleep(0.2)
        free(fillers)
        ended = wait_job(api, job["id"], TERMINAL, timeout=240)
        print(f"output on a full disk: {ended['status']} ({ended['error']})")
        assert ended["status"] in ("done", "failed"), ended
        if ended["status"] == "failed":
            assert ended["error_code"] == DISK_FULL and "disk space" in ended["error"], ended
        else:
            folder = storage.resolve(stack.storage_root, storage.job_dir(job["id"]))
            assert not [p.name for p in folder.iterdir() if p.name.startswith(".")], "partial files left"


def test_a_cancel_on_a_full_disk_commits_and_the_job_ends_cancelled(
    stack: Stack, api: httpx.Client, e2e_clips: Path
) -> None:
    source = clip(e2e_clips, "storage-cancel.mp4", size="176x144", seconds=8.0, audio=False)
    with small_storage(stack, "8m", cancels_inodes=8) as (jobs_dir, cancels_dir):
        job = upload_ok(api, source)
        fillers: list[Path] = []

        def full_then_cancel() -> None:
            # Both volumes full, the markers' one out of inodes too: not even an empty marker fits.
            fillers.extend(fill(jobs_dir))
            fillers.extend(fill(cancels_dir, inodes=True))
            response = api.delete(f"/api/jobs/{job['id']}")
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "cancelled"

        hit_while_running(api, job["id"], full_then_cancel, check_after=False)
        assert not (cancels_dir / job["id"]).exists(), "the marker fitted: the fault did not hit"
        # The database is the truth: cancelled, and no event of the running attempt changes that.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert api.get(f"/api/jobs/{job['id']}").json()["status"] == "cancelled"
            time.sleep(0.2)
        free(fillers)
        # Deleting it now (room again) writes the marker and removes the files: its task stops.
        assert api.delete(f"/api/jobs/{job['id']}").status_code == 204
        assert (cancels_dir / job["id"]).is_file()
        assert not storage.resolve(stack.storage_root, storage.job_dir(job["id"])).exists()
