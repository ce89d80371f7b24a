"""kill -9 of the backend mid-upload (multipart): the janitor removes the partial file after its grace period.

The stack's backend runs the janitor every second with a short upload grace period
(tests/fixtures/stack.py ``JANITOR_ENV``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devops.local import Stack
from tests.fixtures.backend import wait_for
from tests.fixtures.stack import JANITOR_ENV

pytestmark = [pytest.mark.rabbitmq, pytest.mark.triton, pytest.mark.slow]

BOUNDARY = "vsr-chaos-janitor"
CHUNK = b"\0" * (256 * 1024)


def _slow_body(stop: threading.Event) -> Iterator[bytes]:
    """A multipart body whose file part trickles in until ``stop`` (it never ends by itself in time)."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    for _ in range(6000):  # at most 1.5 GB
        if stop.is_set():
            return
        yield CHUNK
        time.sleep(0.02)


class SlowUpload(threading.Thread):
    """Streams ``_slow_body`` to POST /api/jobs with the client's cookies; keeps the outcome."""

    def __init__(self, base_url: str, cookies: httpx.Cookies) -> None:
        super().__init__(daemon=True)
        self.base_url, self.cookies = base_url, cookies
        self.stop = threading.Event()
        self.outcome: object = None

    def run(self) -> None:
        headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        try:
            with httpx.Client(base_url=self.base_url, cookies=self.cookies, timeout=120) as client:
                self.outcome = client.post("/api/jobs", content=_slow_body(self.stop), headers=headers)
        except httpx.HTTPError as exc:
            self.outcome = exc  # the backend died under it: what this test does


def _folders(root: Path) -> set[str]:
    jobs = root / "jobs"
    return {p.name for p in jobs.iterdir()} if jobs.is_dir() else set()


def _growing_upload(root: Path, before: set[str]) -> Path | None:
    """The new job folder's input while it is being written, once it holds over 1 MB."""
    for name in _folders(root) - before:
        for path in (root / "jobs" / name).glob("input.*"):
            if path.is_file() and path.stat().st_size > 1024 * 1024:
                return path
    return None


def test_a_partial_upload_left_by_a_killed_backend_is_removed_after_the_grace_period(
    stack: Stack, api: httpx.Client
) -> None:
    root = stack.storage_root
    before = _folders(root)
    uploader = SlowUpload(stack.base_url, api.cookies)
    uploader.start()
    try:
        found = wait_for(
            lambda: _growing_upload(root, before), timeout=120, what="the upload to reach the disk"
        )
        assert isinstance(found, Path)
        partial = found
        size = partial.stat().st_size
        wait_for(lambda: partial.stat().st_size > size, timeout=60, what="the upload to keep growing")
        assert uploader.is_alive() and uploader.outcome is None, "the upload ended before the kill"
        stack.kill_backend()
    finally:
        uploader.stop.set()
    uploader.join(60)
    assert isinstance(uploader.outcome, httpx.HTTPError), uploader.outcome
    job_id = partial.parent.name
    assert partial.exists(), "the kill left no partial upload: nothing to test"
    stack.restart_backend()
    grace = float(JANITOR_ENV["UPLOAD_GRACE_S"]) + float(JANITOR_ENV["JANITOR_LEASE_S"])
    wait_for(
        lambda: not partial.parent.exists(), timeout=grace + 120, what="the janitor to remove the upload"
    )
    assert api.get(f"/api/jobs/{job_id}").status_code == 404
    assert job_id not in {job["id"] for job in api.get("/api/jobs").json()}
    token = {"Authorization": f"Bearer {stack.ops_token}"}  # /metrics is never open
    metrics = httpx.get(f"{stack.base_url}/metrics", headers=token, timeout=30).text
    reclaimed = [
        line for line in metrics.splitlines() if line.startswith("vsr_janitor_reclaimed_bytes_total")
    ]
    assert any('sweep="uploads"' in line and float(line.split()[-1]) >= size for line in reclaimed), reclaimed
