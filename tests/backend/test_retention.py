"""Retention through the API on a real HTTP server: expires_at, usage, and a download the sweep cannot cut."""

from __future__ import annotations

import hashlib
import os
from datetime import datetime, timedelta
from pathlib import Path

import anyio
import httpx
import pytest
from starlette.types import Message

from backend.api.routes.media import HeldFile
from backend.janitor.records import JobRecords
from backend.janitor.retention import expired_jobs
from backend.jobs.db import make_engine, make_sessions, utcnow
from backend.jobs.store import JobStore
from backend.settings import Settings
from contract import storage
from contract.catalogue import reason
from contract.messages import DoneEvent
from tests.fixtures.backend_server import serve

HOUR = 3600
#: Far larger than the socket buffers: most of it is still on disk when the sweep deletes the job.
RESULT_BYTES = 24 * 1024 * 1024


def _finish(store: JobStore, root: Path, job_id: str) -> bytes:
    """Store a large result as an adapter would and apply its done event; the result's bytes."""
    data = os.urandom(RESULT_BYTES)
    storage.resolve(root, storage.output_key(job_id)).write_bytes(data)
    store.apply_event(
        DoneEvent(
            job_id=job_id,
            output_key=storage.output_key(job_id),
            frames=25,
            width=352,
            height=288,
            seconds=1.0,
        )
    )
    return data


def test_a_download_in_flight_completes_byte_exact_while_retention_deletes_the_job(
    settings: Settings, clip: Path
) -> None:
    settings.RETENTION_S = HOUR
    settings.JANITOR_INTERVAL_S = 0  # the test runs the sweep itself, at the moment it chooses
    engine = make_engine(settings.DATABASE_URL)
    with serve(settings) as served, httpx.Client(base_url=served.url, timeout=60) as client:
        with clip.open("rb") as handle:
            created = client.post("/api/jobs", files={"file": ("clip.mp4", handle, "video/mp4")})
        assert created.status_code == 201, created.text
        job_id = created.json()["id"]
        store: JobStore = served.app.state.services.store
        data = _finish(store, settings.STORAGE_ROOT, job_id)
        job = client.get(f"/api/jobs/{job_id}").json()
        expires = datetime.fromisoformat(job["expires_at"])
        assert expires - datetime.fromisoformat(job["updated_at"]) == timedelta(seconds=HOUR)
        usage = client.get("/api/usage").json()
        assert usage["stored_bytes"] >= RESULT_BYTES + clip.stat().st_size
        assert (usage["quota_bytes"], usage["jobs"], usage["active_jobs"]) == (
            settings.QUOTA_STORAGE_BYTES,
            1,
            0,
        )
        digest, received = hashlib.sha256(), 0
        with client.stream("GET", f"/api/jobs/{job_id}/result") as response:
            assert response.status_code == 200
            assert int(response.headers["content-length"]) == RESULT_BYTES
            chunks = response.iter_bytes(64 * 1024)
            first = next(chunks)
            digest.update(first)
            received += len(first)
            # An hour and more later: the sweep deletes the row and the files mid-download.
            removed = expired_jobs(
                settings.STORAGE_ROOT,
                JobRecords(make_sessions(engine)),
                store,
                HOUR,
                clock=lambda: utcnow() + timedelta(seconds=HOUR + 60),
            )
            assert removed.bytes >= RESULT_BYTES
            assert not storage.resolve(settings.STORAGE_ROOT, storage.job_dir(job_id)).exists()
            assert received < RESULT_BYTES  # it really was in flight
            for chunk in chunks:
                digest.update(chunk)
                received += len(chunk)
        assert received == RESULT_BYTES and digest.digest() == hashlib.sha256(data).digest()
        # Gone for any new request, and from the owner's usage.
        assert client.get(f"/api/jobs/{job_id}/result").status_code == 404
        assert client.get(f"/api/jobs/{job_id}").status_code == 404
        assert client.get("/api/usage").json()["stored_bytes"] == 0
    engine.dispose()


def test_a_range_request_is_served_from_the_held_file(settings: Settings, clip: Path) -> None:
    settings.JANITOR_INTERVAL_S = 0
    with serve(settings) as served, httpx.Client(base_url=served.url, timeout=60) as client:
        with clip.open("rb") as handle:
            job_id = client.post("/api/jobs", files={"file": ("clip.mp4", handle, "video/mp4")}).json()["id"]
        data = _finish(served.app.state.services.store, settings.STORAGE_ROOT, job_id)
        part = client.get(f"/api/jobs/{job_id}/result", headers={"Range": "bytes=1000-1999"})
        assert part.status_code == 206 and part.content == data[1000:2000]
        source = client.get(f"/api/jobs/{job_id}/source")
        assert source.status_code == 200 and source.content == clip.read_bytes()


async def _send_all(response: HeldFile, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """Run ``response`` as a server would; its status and body."""
    sent: list[Message] = []
    scope = {"type": "http", "method": "GET", "headers": headers, "asgi": {"spec_version": "2.4"}}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await response(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


@pytest.mark.parametrize(
    ("headers", "status", "part"),
    [([], 200, slice(None)), ([(b"range", b"bytes=10-19")], 206, slice(10, 20))],
)
def test_a_response_made_before_its_file_was_deleted_still_sends_all_of_it(
    tmp_path: Path, headers: list[tuple[bytes, bytes]], status: int, part: slice
) -> None:
    path = tmp_path / "output.mp4"
    data = os.urandom(300_000)
    path.write_bytes(data)
    response = HeldFile(path, reason("http.result_not_ready"), media_type="video/mp4")
    path.unlink()  # between the route's return and the first byte: a plain FileResponse fails here
    assert anyio.run(_send_all, response, headers) == (status, data[part])
